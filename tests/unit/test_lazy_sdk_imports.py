"""Provider SDKs are loaded by their factories only when configured (issue 12: start-up time and
worker memory): importing the application and the worker loads none of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SDKS = ("google.genai", "openai", "replicate", "cloudinary", "stripe", "av", "svix", "paypalserversdk")


def test_importing_the_app_and_worker_loads_no_provider_sdk():
    probe = ("import json, sys; import app, app.worker, app.routes; "
             f"print(json.dumps(sorted(m for m in {SDKS!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
