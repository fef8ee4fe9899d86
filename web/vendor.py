"""Fetch the web app's browser libraries from npm (run by `make vendor`).

Everything the web app loads is served by Muse itself (contract §11): nothing comes from a
third-party host at run time. The packages are pinned here with the sha512 npm publishes for them
(`npm view <name>@<version> dist.integrity`); `npm pack` fetches them, the digest is checked, and
only the files named below are unpacked (with the licence):

    web/assets/vendor/clerk/clerk.browser.js         @clerk/clerk-js: window.Clerk (Clerk sign-in)
    web/assets/vendor/clerk-ui/ui.browser.js         @clerk/ui: Clerk's components (sign-in …)
    web/assets/vendor/markdown-it/markdown-it.js     markdown-it: CommonMark + tables (chat answers)
    web/assets/vendor/dompurify/purify.js            DOMPurify: the HTML sanitizer after markdown-it
    web/assets/vendor/highlight/highlight.js         highlight.js (common languages): code blocks
    web/assets/vendor/chartjs/chart.js               Chart.js (UMD: window.Chart): the usage charts
    tests/browser/vendor/axe-core/axe.min.js         axe-core: accessibility audits, for tests only

The output is not committed (≈4.5 MB); the same versions always give the same files. To upgrade,
change the versions and digests below and run `make vendor`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "web" / "assets" / "vendor"
TEST_VENDOR = ROOT / "tests" / "browser" / "vendor"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # npm's dist.integrity
    target: Path  # the directory its files go to
    files: dict[str, str]  # a pattern of paths inside the package (after package/) -> the name to write
    # ("" keeps the file's own name); the first must match


PACKAGES = [
    Package("@clerk/clerk-js", "6.40.0",
            "sha512-2MnZ/ygvuCmeuqfXQmsxfQaLN/SSJvQbtT2cLXbgr5VKr3KmZFZBVvX977fG3eZ6pprl4J9pO+I2bbe6BvColg==",
            VENDOR / "clerk", {r"dist/clerk\.browser\.js": "",
                               r"dist/[\w-]+_clerk\.browser_[0-9a-f]{6}_6\.40\.0\.js": ""}),
    Package("@clerk/ui", "1.36.0",
            "sha512-uI96zYCh5jISLOt1mdpIPy/Y31P0kwFxjUFOxLUwFfTHFmGUcRjbqN6bbb+75tdI2Bz6ARGws3rhspDer+xIfQ==",
            VENDOR / "clerk-ui", {r"dist/ui\.browser\.js": "", r"dist/[\w-]+_ui_58d0c7_1\.36\.0\.js": ""}),
    Package("markdown-it", "15.0.3",
            "sha512-+Az7Ojz3iRGu8KYMvJ6xVhvrxP3eE+vEtJX75Ow88XBpcQNV/0lGX5ZynIIBftREo4DC2jsveAMDaeltmm8QvQ==",
            VENDOR / "markdown-it", {r"dist/browser/markdown-it\.esm\.min\.mjs": "markdown-it.js"}),
    Package("dompurify", "3.5.0",
            "sha512-LYC0ZkE8P1V42JsRYTwMdme/2ET8SpOc5AA2eOFjP/IadvRd2fwiT4TVz5vkfy0XUx12aS2UaRkTnfVPNOv9vw==",
            VENDOR / "dompurify", {r"dist/purify\.es\.mjs": "purify.js"}),
    Package("@highlightjs/cdn-assets", "11.12.0",
            "sha512-KvOKXODaiFmId9xaq3xc5xCL66wVLUuOngDbO9B/kewbFTqdGbn2nJxNhN3H5R1cgDTVj6R8vH0zgiNDEGjpDw==",
            VENDOR / "highlight", {r"es/highlight\.min\.js": "highlight.js"}),
    Package("chart.js", "4.6.2",
            "sha512-xachB+pPHjp0syJi7llUBA1w3kMYl6NF3o7eVrvjnWCT+IB2zMaF2pX5UYDiwbbfsioFEIRnAjreNOMsGj5TIA==",
            VENDOR / "chartjs", {r"dist/chart\.umd\.min\.js": "chart.js"}),
    Package("axe-core", "4.14.1",
            "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
            TEST_VENDOR / "axe-core", {r"axe\.min\.js": ""}),
]
STAMPS = (VENDOR / ".versions", TEST_VENDOR / ".versions")
# The source-map comment names a .map file that is not shipped: DevTools would ask for it.
SOURCE_MAP = re.compile(rb"\n//# sourceMappingURL=\S+\s*$")


def stamp_text() -> str:
    return "".join(f"{p.name}@{p.version}\n" for p in PACKAGES)


def fetch(package: Package, workdir: Path) -> Path:
    """`npm pack name@version` into workdir; the tarball, checked against the pinned digest."""
    subprocess.run(["npm", "pack", f"{package.name}@{package.version}", "--silent", "--pack-destination",
                    str(workdir)], check=True, stdout=subprocess.DEVNULL)
    tarball = next(workdir.glob(f"{package.name.strip('@').replace('/', '-')}-{package.version}.tgz"))
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != package.integrity:
        sys.exit(f"vendor: {package.name}@{package.version} has digest {digest}, "
                 f"expected {package.integrity}")
    return tarball


def unpack(tarball: Path, package: Package) -> int:
    """The package's named files and its licence into its directory; the number of files."""
    target = package.target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    patterns = [(re.compile(rf"package/({pattern})"), name) for pattern, name in package.files.items()]
    patterns.append((re.compile(r"package/(LICENSE)"), ""))
    count = 0
    first = None
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            for pattern, name in patterns:
                match = pattern.fullmatch(member.name)
                if not match:
                    continue
                source = archive.extractfile(member)
                assert source is not None
                out = target / (name or Path(match.group(1)).name)
                out.write_bytes(SOURCE_MAP.sub(b"\n", source.read()))
                count += 1
                first = first or (out if pattern is patterns[0][0] else None)
                break
    if first is None:
        sys.exit(f"vendor: {next(iter(package.files))} is missing from {tarball.name}")
    return count


def main() -> None:
    if all(stamp.exists() and stamp.read_text() == stamp_text() for stamp in STAMPS):
        return
    if shutil.which("npm") is None:
        # Muse runs without it, answers then show as plain text and Clerk sign-in is unavailable.
        print("vendor: npm not found; the web app's browser libraries are not installed")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for package in PACKAGES:
            count = unpack(fetch(package, Path(tmp)), package)
            where = package.target.relative_to(ROOT)
            print(f"vendor: {package.name}@{package.version} → {where}/ ({count} files)")
    for stamp in STAMPS:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(stamp_text())


if __name__ == "__main__":
    main()
