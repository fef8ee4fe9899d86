"""/openapi.json through the client generators people use (issue 27 item 5).

- `openapi-python-client` (pinned dev dependency) generates with no warning at all, and the
  generated client, talking to a started Muse over ASGI, parses the 202 answers of
  `POST /api/v1/images`, `/images/edits` and `/videos` into their models and a 422 into `Problem`
  with its `errors[].loc`.
- `openapi-typescript` and `typescript` (npm, pinned with integrity digests in
  tests/clients/package-lock.json, run with the machine's node): the generated types pass
  `tsc --strict`, and a small typed client program using them compiles.

A tool that cannot be installed (no node/npm on the machine, no registry) skips with the reason;
a tool that runs and complains fails.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fixtures.images import run_jobs
from tests.fixtures.videos import started_video_app, video_settings, video_user

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
ROOT = CLIENTS.parents[1]
BASE = "http://muse.test"


async def _spec(app) -> dict:
    response = await app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return await response.get_json()


def _generate_python(spec: dict, workdir: Path, package: str) -> str:
    """Run openapi-python-client on `spec` into workdir/package; its whole output."""
    tool = Path(sys.executable).parent / "openapi-python-client"
    if not tool.exists():
        pytest.skip("openapi-python-client is not installed (`make install` installs the dev extras)")
    (workdir / "openapi.json").write_text(json.dumps(spec))
    # the generator reads only a few media types as files; a zip (the data export) is one, said the
    # way its documentation says (`content_type_overrides`), as a user of the document would
    (workdir / "config.json").write_text(json.dumps(
        {"content_type_overrides": {"application/zip": "application/octet-stream"}}))
    env = {**os.environ, "PATH": f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # its ruff pass
    done = subprocess.run([str(tool), "generate", "--path", str(workdir / "openapi.json"),
                           "--output-path", str(workdir / package), "--meta", "none",
                           "--config", str(workdir / "config.json")],
                          capture_output=True, text=True, timeout=300, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    return output


async def test_openapi_python_client_generates_without_warnings_and_parses_202_and_problems(
        settings, tmp_path):
    async with started_video_app(video_settings(settings)) as app:
        # a thread: the event loop (the app's connections, its heartbeats) runs on meanwhile
        output = await asyncio.to_thread(_generate_python, await _spec(app), tmp_path, "muse_client")
        assert "warning" not in output.lower(), output[-5000:]
        sys.path.insert(0, str(tmp_path))
        try:
            client_mod = importlib.import_module("muse_client.client")
            images = importlib.import_module("muse_client.api.default.post_create_image")
            edits = importlib.import_module("muse_client.api.default.post_edit_image")
            videos = importlib.import_module("muse_client.api.default.post_create_video")
            models = importlib.import_module("muse_client.models")
            headers, _ = await video_user(app, "gen_user", credits=100)
            client = client_mod.AuthenticatedClient(base_url=BASE, token=headers["Authorization"][7:])
            client.set_async_httpx_client(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers))

            made = await images.asyncio_detailed(client=client, body=models.PostCreateImageCreateImageIn(
                prompt="a lighthouse at dusk"))
            assert made.status_code == 202, made.content
            assert isinstance(made.parsed, models.ImageOut) and made.parsed.id.startswith("img_")
            assert made.parsed.status in ("queued", "in_progress")
            await run_jobs(app.extensions["container"])

            edited = await edits.asyncio_detailed(client=client, body=models.PostEditImageJsonEditJson(
                prompt="add a moon", source_image_id=made.parsed.id))
            assert edited.status_code == 202, edited.content
            assert isinstance(edited.parsed, models.ImageOut) and edited.parsed.kind == "edit"

            video = await videos.asyncio_detailed(client=client, body=models.PostCreateVideoCreateVideoIn(
                prompt="waves", duration_s=1))
            assert video.status_code == 202, video.content
            assert isinstance(video.parsed, models.VideoOut) and video.parsed.id.startswith("vid_")

            refused = await images.asyncio_detailed(client=client, body=models.PostCreateImageCreateImageIn(
                prompt="x", num_outputs=99))
            assert refused.status_code == 422
            problem = refused.parsed
            assert isinstance(problem, models.Problem) and problem.code == "validation_error"
            assert [list(e.loc) for e in problem.errors] == [["num_outputs"]]
            assert problem.request_id == refused.headers["X-Request-ID"]
            await client.get_async_httpx_client().aclose()
        finally:
            sys.path.remove(str(tmp_path))
            for name in [m for m in sys.modules if m == "muse_client" or m.startswith("muse_client.")]:
                del sys.modules[name]


def _npm_tools(workdir: Path) -> Path:
    """tests/clients' pinned npm packages installed (`npm ci`, digests checked) under workdir."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not on this machine (`apt-get install npm`)")
    cache = ROOT / "var" / "clients-node"  # installed once, reused while the lock file is the same
    lock = (CLIENTS / "package-lock.json").read_text()
    if not (cache / "node_modules" / ".bin" / "tsc").exists() or \
            not (cache / "package-lock.json").exists() or (cache / "package-lock.json").read_text() != lock:
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(CLIENTS / name, cache / name)
        done = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=cache,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            shutil.rmtree(cache, ignore_errors=True)
            pytest.skip(f"npm could not install tests/clients' packages: {done.stderr[-500:]}")
    return cache / "node_modules" / ".bin"


TYPED_CLIENT = """
import type { paths, components } from "./muse";

type ImageAccepted = paths["/api/v1/images"]["post"]["responses"]["202"]["content"]["application/json"];
type Problem = components["schemas"]["Problem"];
type OpenAIError = components["schemas"]["OpenAIError"];
type ClerkHook = paths["/api/v1/webhooks/clerk"]["post"]["parameters"]["header"];

export function describe(image: ImageAccepted, problem: Problem, error: OpenAIError): string {
  const where = (problem.errors ?? []).map((e) => e.loc.map((part) => String(part)).join("."));
  return `${image.id} ${image.status} ${problem.code} ${where.join(",")} ${error.error.message}`;
}

export const hook: ClerkHook = { "svix-id": "msg_1", "svix-timestamp": "1", "svix-signature": "v1,x" };
"""


def _typecheck(workdir: Path) -> None:
    """openapi-typescript on workdir/openapi.json, then `tsc --strict` on its output and TYPED_CLIENT."""
    bin_dir = _npm_tools(workdir)
    generated = subprocess.run([str(bin_dir / "openapi-typescript"), str(workdir / "openapi.json"),
                                "--output", str(workdir / "muse.ts")], capture_output=True, text=True,
                               timeout=300)
    said = (generated.stdout + generated.stderr).lower()
    assert generated.returncode == 0, said[-3000:]
    assert "warn" not in said, said[-3000:]
    (workdir / "client.ts").write_text(TYPED_CLIENT)
    checked = subprocess.run([str(bin_dir / "tsc"), "--strict", "--noEmit", "--target", "es2022",
                              "--module", "es2022", "--moduleResolution", "bundler",
                              str(workdir / "muse.ts"), str(workdir / "client.ts")],
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, (checked.stdout + checked.stderr)[-5000:]


async def test_openapi_typescript_output_type_checks_with_tsc_strict(settings, tmp_path):
    async with started_video_app(video_settings(settings)) as app:
        (tmp_path / "openapi.json").write_text(json.dumps(await _spec(app)))
    await asyncio.to_thread(_typecheck, tmp_path)


async def test_webhooks_declare_their_required_signature_headers(app):
    spec = await _spec(app)

    def required(path: str) -> set[str]:
        params = spec["paths"][path]["post"]["parameters"]
        return {p["name"] for p in params if p.get("in") == "header" and p.get("required")}

    assert required("/api/v1/webhooks/clerk") == {"svix-id", "svix-timestamp", "svix-signature"}
    assert required("/api/v1/webhooks/stripe") == {"Stripe-Signature"}
    assert required("/api/v1/webhooks/paypal") == {
        "PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME", "PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL",
        "PAYPAL-AUTH-ALGO"}
    # no route requires Idempotency-Key (contract §1: accepted, never required): it stays optional
    keys = [p for ops in spec["paths"].values() for op in ops.values() for p in op.get("parameters", [])
            if p.get("$ref", "").endswith("/IdempotencyKey")]
    assert keys and spec["components"]["parameters"]["IdempotencyKey"]["required"] is False
