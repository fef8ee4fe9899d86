"""Fetch Clerk's browser bundles from npm into web/assets/vendor/ (run by `make vendor`).

The web app signs people in with Clerk when `CLERK_PUBLISHABLE_KEY` is set (contract §11), using
Clerk's own browser library served by Muse itself: nothing is loaded from a third-party host at
run time. The packages are pinned here with the sha512 npm publishes for them (`npm view
<name>@<version> dist.integrity`); `npm pack` fetches them, the digest is checked, and only the
browser bundles (and the chunks they load from their own directory) are unpacked:

    web/assets/vendor/clerk/clerk.browser.js     @clerk/clerk-js: window.Clerk
    web/assets/vendor/clerk-ui/ui.browser.js     @clerk/ui: Clerk's components (sign-in …)

The output is not committed (≈3.5 MB); the same versions always give the same files. To upgrade,
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
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "assets" / "vendor"
# name, version, npm's dist.integrity, directory, the bundle and the chunk names it loads.
PACKAGES = [
    ("@clerk/clerk-js", "6.40.0",
     "sha512-2MnZ/ygvuCmeuqfXQmsxfQaLN/SSJvQbtT2cLXbgr5VKr3KmZFZBVvX977fG3eZ6pprl4J9pO+I2bbe6BvColg==",
     "clerk", "clerk.browser.js", r"[\w-]+_clerk\.browser_[0-9a-f]{6}_6\.40\.0\.js"),
    ("@clerk/ui", "1.36.0",
     "sha512-uI96zYCh5jISLOt1mdpIPy/Y31P0kwFxjUFOxLUwFfTHFmGUcRjbqN6bbb+75tdI2Bz6ARGws3rhspDer+xIfQ==",
     "clerk-ui", "ui.browser.js", r"[\w-]+_ui_58d0c7_1\.36\.0\.js"),
]
STAMP = VENDOR / ".versions"


def stamp_text() -> str:
    return "".join(f"{name}@{version}\n" for name, version, *_ in PACKAGES)


def fetch(name: str, version: str, integrity: str, workdir: Path) -> Path:
    """`npm pack name@version` into workdir; the tarball, checked against the pinned digest."""
    subprocess.run(["npm", "pack", f"{name}@{version}", "--silent", "--pack-destination", str(workdir)],
                   check=True, stdout=subprocess.DEVNULL)
    tarball = next(workdir.glob(f"{name.strip('@').replace('/', '-')}-{version}.tgz"))
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != integrity:
        sys.exit(f"vendor: {name}@{version} has digest {digest}, expected {integrity}")
    return tarball


def unpack(tarball: Path, directory: str, bundle: str, chunks: str) -> int:
    """The bundle, its chunks and the licence into VENDOR/directory; the number of files."""
    target = VENDOR / directory
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    wanted = re.compile(rf"package/(?:dist/({re.escape(bundle)}|{chunks})|(LICENSE))")
    count = 0
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            match = wanted.fullmatch(member.name)
            if not match or not member.isfile():
                continue
            source = archive.extractfile(member)
            assert source is not None
            (target / (match.group(1) or match.group(2))).write_bytes(source.read())
            count += 1
    if not (target / bundle).exists():
        sys.exit(f"vendor: {bundle} is missing from {tarball.name}")
    return count


def main() -> None:
    if STAMP.exists() and STAMP.read_text() == stamp_text():
        return
    if shutil.which("npm") is None:
        # Muse runs without it; only Clerk sign-in needs these files (the app says so).
        print("vendor: npm not found; Clerk's browser library is not installed (only Clerk sign-in needs it)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name, version, integrity, directory, bundle, chunks in PACKAGES:
            count = unpack(fetch(name, version, integrity, Path(tmp)), directory, bundle, chunks)
            print(f"vendor: {name}@{version} → web/assets/vendor/{directory}/ ({count} files)")
    STAMP.write_text(stamp_text())


if __name__ == "__main__":
    main()
