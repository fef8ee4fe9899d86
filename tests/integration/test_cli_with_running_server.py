"""`python -m app …` while `make run` serves (contract §16): commands use the running embedded servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx

from app.embedded import free_port
from providers.dev_keys import ensure_dev_key_pair, mint_token
from tests.integration.test_graceful_shutdown import ROOT, spawn, stop, wait_http


def dev_env(var_dir, port: int) -> dict[str, str]:
    """`make run`'s environment: development, no MONGODB_URI / REDIS_URL, no Clerk, our own var/."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MONGODB_URI", "REDIS_URL", "CLERK_JWT_KEY", "CLERK_SECRET_KEY", "APP_ENV")}
    env.update({"APP_ENV": "development", "VAR_DIR": str(var_dir), "MEDIA_DIR": str(var_dir / "media"),
                "PORT": str(port), "LOG_LEVEL": "WARNING", "NO_PROXY": "127.0.0.1,localhost"})
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def starts(var_dir) -> dict[str, int]:
    """How many times each embedded server was started on this data directory."""
    mongo = (var_dir / "mongo" / "nx-27017.log").read_text()
    redis = (var_dir / "redis" / "redis.log").read_text()
    return {"mongo": mongo.count("Starting NX-27017"), "redis": redis.count("Ready to accept connections")}


async def test_cli_commands_reuse_the_servers_of_a_running_make_run(tmp_path):
    var_dir, port = tmp_path / "var", free_port()
    env = dev_env(var_dir, port)
    server = spawn(["serve", "--port", str(port)], env, tmp_path / "serve.log")
    try:
        await wait_http(f"http://127.0.0.1:{port}/health", server, timeout_s=90)
        assert starts(var_dir) == {"mongo": 1, "redis": 1}
        token = mint_token(ensure_dev_key_pair(var_dir)[0], "user_cli")  # what `python -m app token` prints
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/api/v1/me", headers=headers)).status_code == 200
            grant = cli(env, "credits", "grant", "--user", "user_cli", "--amount", "7")
            credits = (await http.get(f"http://127.0.0.1:{port}/api/v1/credits", headers=headers)).json()
        after = starts(var_dir)
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    finally:
        stop(server)

    assert grant.returncode == 0, grant.stderr
    assert json.loads(grant.stdout)["granted"] is True
    assert after == {"mongo": 1, "redis": 1}  # no second server on the same data directory
    assert credits["balance"] == 7  # the grant went to the database the server uses
    assert not (var_dir / "embedded.json").exists()  # withdrawn when the server stopped
