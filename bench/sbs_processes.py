"""`make bench` (bench/side_by_side.py): the servers' processes, their CPU and memory, start-up timing."""

from __future__ import annotations

import asyncio
import compileall
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The interpreter Muse (and the baseline) run on: `make bench` builds a venv with the runtime
# dependencies only, as a deployment installs them (at the versions of .venv); .venv's own
# interpreter also loads what only the dev tools need (structlog formats tracebacks with `rich`
# when it is installed: ~3 MB of RSS a deployment does not carry).
MUSE_PYTHON = os.environ.get("BENCH_MUSE_PYTHON") or sys.executable


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` and every descendant still alive."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        children.setdefault(ppid, []).append(int(entry))
        stats[int(entry)] = (utime, stime)
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += sum(stats.get(current, (0, 0)))
        todo.extend(children.get(current, []))
    return total / CLK_TCK


def tree_rss_mb(pid: int) -> float:
    """Resident memory (MB) of `pid` and its descendants."""
    total_kb = 0
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                pids.append(int(entry))
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen
    started_s: float = 0.0  # from spawn to the first answered request

    @property
    def pid(self) -> int:
        return self.process.pid


def spawn(args: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=cwd, env=env or dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def wait_up(
    url: str, proc: subprocess.Popen, *, limit_s: float, headers: dict[str, str] | None = None
) -> float:
    """Poll `url` every 5 ms until it answers 200; the seconds since now."""
    began = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - began < limit_s:
            if proc.poll() is not None:
                raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
            try:
                async with session.get(url, headers=headers) as response:
                    if response.status == 200:
                        return time.perf_counter() - began
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.005)
    raise RuntimeError(f"{url} did not come up in {limit_s} s")


SOURCES = ("app", "controllers", "services", "repositories", "providers", "middlewares")


def compile_bytecode(root: Path) -> None:
    """Compile the project's modules, as `make bytecode` and any deployment do: with
    PYTHONDONTWRITEBYTECODE set, each start would compile them all again (~0.13 s here) and the
    start-up figure would measure that."""
    for name in SOURCES:
        compileall.compile_dir(root / name, quiet=1)


@dataclass
class Start:
    wall_s: float  # spawn → first GET /health/live answered 200
    cpu_s: float  # user + system CPU of the process by then


async def time_starts(
    env: dict[str, str], n: int, port: Callable[[], int], cwd: Path = ROOT
) -> list[Start]:
    """Start `python -m app serve` (of the code in `cwd`) `n` times, one after the other, each until
    /health/live answers."""
    found: list[Start] = []
    for _ in range(n):
        muse_port = port()
        proc = spawn([MUSE_PYTHON, "-m", "app", "serve", "--port", str(muse_port)], env, cwd=cwd)
        try:
            wall = await wait_up(f"http://127.0.0.1:{muse_port}/health/live", proc, limit_s=60)
            found.append(Start(wall, tree_cpu_s(proc.pid)))
        finally:
            stop([proc])
    return found


def stop(processes: list[subprocess.Popen]) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in processes:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def muse_env(mongo_url: str, redis_url: str, public_pem: str, upstream: str, tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("CLERK_", "UPSTASH_", "OPENAI_", "GEMINI_", "REPLICATE_", "PAYPAL_", "OTEL_", "SENTRY_")
        )
    }
    big = [1_000_000, 1_000_000]
    env.update(
        {
            "APP_ENV": "development",
            "MONGODB_URI": mongo_url,
            "REDIS_URL": redis_url,
            "MONGODB_DB": f"bench_{uuid.uuid4().hex[:8]}",
            "CLERK_JWT_KEY": public_pem,
            "RATE_LIMITS_ENABLED": "true",  # on, with buckets the load cannot empty
            "RATE_LIMIT_PLANS": json.dumps({"free": big, "starter": big, "pro": big, "enterprise": big}),
            "WORKER_IN_PROCESS": "false",
            "LOG_LEVEL": "INFO",
            "VAR_DIR": str(tmp / "var"),
            "MEDIA_DIR": str(tmp / "media"),
            "NO_PROXY": "127.0.0.1,localhost",
            "CHAT_PROVIDERS": "openai",
            "IMAGE_PROVIDERS": "openai",
            "OPENAI_API_KEY": "sk-bench",
            "OPENAI_BASE_URL": upstream + "/v1",
            "AI_TIMEOUT_S": "30",
        }
    )
    return env


async def grant(env: dict[str, str], clerk_id: str, amount: int, cwd: Path = ROOT) -> None:
    args = [MUSE_PYTHON, "-m", "app", "credits", "grant", "--user", clerk_id, "--amount", str(amount)]
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"credits grant failed: {out.decode()[-2000:]}")
