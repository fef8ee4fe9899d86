"""Schemathesis over /openapi.json against a real running Muse (issue 19).

Muse runs as `python -m app serve` (hypercorn) on the session's real MongoDB-wire and Redis
servers, with the offline providers; schemathesis (pinned, CLI) runs every phase (examples,
coverage, fuzzing, stateful) and all checks, once with a USER token and once with an ADMIN token.
The run must find nothing: no 500, no undocumented status, no schema-valid request rejected, no
invalid one accepted. 502/503/504 are documented answers (tests/fuzz/schemathesis.toml).
Per-operation examples: `MUSE_FUZZ_EXAMPLES` (default 15, issue 27); `MUSE_FUZZ_SEED` (default 19)
to try other seeds; `MUSE_FUZZ_OUTPUT`, a directory to keep each run's whole output in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.embedded import free_port
from tests.fakes.stripe import SECRET_KEY as STRIPE_KEY
from tests.fakes.stripe import WEBHOOK_SECRET as STRIPE_HOOK_SECRET
from tests.fakes.stripe import FakeStripe
from tests.fuzz.hooks import CLERK_SECRET

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = os.environ.get("MUSE_FUZZ_EXAMPLES", "15")
EXCLUDED = ["--exclude-operation-id", "delete_delete_me", "--exclude-operation-id", "delete_delete_user"]


@pytest.fixture(scope="module")
def fake_stripe_server() -> Iterator[FakeStripe]:
    """Stripe for the fuzzed process (its payment processor), so its payment routes run for real."""
    with FakeStripe() as fake:
        yield fake


@pytest.fixture(scope="module")
def muse(servers: dict[str, str], tmp_path_factory: pytest.TempPathFactory,
         fake_stripe_server: FakeStripe) -> Iterator[dict[str, str]]:
    """A Muse web process on a free port; yields its URL and the environment it runs with."""
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "development", "PORT": str(port), "VAR_DIR": str(tmp_path_factory.mktemp("fuzz_var")),
        "MEDIA_DIR": str(tmp_path_factory.mktemp("fuzz_media")),
        "MONGODB_URI": servers["mongodb_uri"], "REDIS_URL": servers["redis_url"],
        "MONGODB_DB": f"fuzz_{uuid.uuid4().hex[:10]}", "QUEUE_NAME": f"muse:queue:fuzz{uuid.uuid4().hex[:6]}",
        "RATE_LIMITS_ENABLED": "false", "IMAGE_TIMEOUT_S": "10", "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1,localhost",
        "STRIPE_SECRET_KEY": STRIPE_KEY, "STRIPE_WEBHOOK_SECRET": STRIPE_HOOK_SECRET,
        "STRIPE_BASE_URL": fake_stripe_server.url, "STRIPE_PRICE_IDS": "starter=price_starter",
        "CLERK_WEBHOOK_SECRET": CLERK_SECRET,  # Clerk's deliveries, signed by the hooks as Svix does
    }
    for name in ("CLERK_JWT_KEY", "CLERK_SECRET_KEY", "PUBLIC_BASE_URL"):
        env.pop(name, None)
    log = open(env["VAR_DIR"] + "/muse.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health/live", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Muse did not start: " + Path(log.name).read_text()[-2000:]) from None
                time.sleep(0.2)
        yield {"url": url, **{k: env[k] for k in ("APP_ENV", "VAR_DIR", "MONGODB_URI", "REDIS_URL",
                                                  "MONGODB_DB", "PYTHONPATH")}}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _token(muse: dict[str, str], user: str, role: str) -> str:
    env = {**os.environ, **{k: v for k, v in muse.items() if k != "url"}}
    done = subprocess.run([sys.executable, "-m", "app", "token", "--user", user, "--role", role],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def _run(muse: dict[str, str], token: str, seed: int) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
           "MUSE_FUZZ_BASE_URL": muse["url"], "NO_PROXY": "127.0.0.1,localhost"}
    st = Path(sys.executable).parent / "st"
    cmd = [str(st), "--config-file", str(ROOT / "tests/fuzz/schemathesis.toml"), "--no-color", "run",
           f"{muse['url']}/openapi.json", "--checks", "all",
           "--max-examples", EXAMPLES,
           "--seed", str(seed), "--request-timeout", "20", "--header", f"Authorization: Bearer {token}",
           # deleting the fuzzing account (contract §20) would end the run: tests/api/test_account_deletion.py
           *EXCLUDED]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr


def _figures(output: str) -> str:
    cases = re.search(r"(\d+) generated.*", output)
    failures = re.findall(r"❌ (ST\d+ [^:]+): (\d+)", output)
    return f"{cases.group(0) if cases else '?'}; failures by check: {dict(failures) or 'none'}"


def _report(output: str) -> str:
    """What a failed run found, whole: every failure's detail (its answer, its curl) and the summary.

    The run's last 20 000 characters were mostly warnings: a CI run's one failure went unrecorded."""
    found = re.search(r"=+ FAILURES =+\n(.*?)(?:=+ WARNINGS =+|=+ SUMMARY =+)", output, re.S)
    summary = output[output.rfind("SUMMARY ="):] if "SUMMARY =" in output else output[-5000:]
    return f"{found.group(1) if found else output[-20000:]}\n{summary}"


@pytest.mark.parametrize("role", ["USER", "ADMIN"])
def test_schemathesis_finds_nothing(muse, role, capsys):
    token = _token(muse, f"fuzz_{role.lower()}", role)
    seed = int(os.environ.get("MUSE_FUZZ_SEED", "19"))
    code, output = _run(muse, token, seed=seed)
    if os.environ.get("MUSE_FUZZ_OUTPUT"):  # a directory to keep each run's whole output in
        Path(os.environ["MUSE_FUZZ_OUTPUT"], f"schemathesis-{role}-{seed}.txt").write_text(output)
    with capsys.disabled():
        print(f"\nschemathesis ({role}): {_figures(output)}")
    assert "Unmatched filters" not in output, output[-5000:]  # an exclusion that excludes nothing
    assert code == 0, _report(output)
