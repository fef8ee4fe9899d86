"""Shared benchmark harness: embedded servers, Muse under Hypercorn, a load generator, figure rows.

Used by bench/bench_*.py (this file's name must not match that pattern: `make bench` runs those).

    with bench_servers() as servers:                  # nx-27017 + Redis in a temporary folder
        async with muse_server(servers.env()) as base:  # `python -m app serve` on a free port
            result = await http_load(session, "GET", base + "/health/live", n=1000, concurrency=32)
            print(row("GET /health/live", result))
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.embedded import EmbeddedServer, free_port, start_mongo, start_redis  # noqa: E402
from app.logging import configure_logging  # noqa: E402
from app.wiring import Container  # noqa: E402
from providers.dev_keys import generate_key_pair, mint_token  # noqa: E402

# Settings the benchmarked process must not pick up from the developer's environment.
_UNSET = ("CLERK_AUTHORIZED_PARTIES", "CLERK_SECRET_KEY", "UPSTASH_REDIS_REST_URL")


@dataclass
class BenchServers:
    """Embedded MongoDB-wire and Redis servers, a fresh database name and a JWT key pair."""

    tmp: Path
    mongo: EmbeddedServer
    redis: EmbeddedServer
    db: str = field(default_factory=lambda: f"bench_{uuid.uuid4().hex[:8]}")
    private_pem: str = ""
    public_pem: str = ""

    def __post_init__(self) -> None:
        if not self.private_pem:
            self.private_pem, self.public_pem = generate_key_pair()

    def env(self, **overrides: str) -> dict[str, str]:
        """Environment of a `python -m app ...` process using these servers (rate limits off)."""
        env = {**os.environ, "APP_ENV": "test", "MONGODB_URI": self.mongo.url, "REDIS_URL": self.redis.url,
               "MONGODB_DB": self.db, "CLERK_JWT_KEY": self.public_pem, "RATE_LIMITS_ENABLED": "false",
               "WORKER_IN_PROCESS": "false", "LOG_LEVEL": "WARNING", "VAR_DIR": str(self.tmp / "var"),
               "MEDIA_DIR": str(self.tmp / "media"), "NO_PROXY": "127.0.0.1,localhost"}
        for name in _UNSET:
            env.pop(name, None)
        return {**env, **overrides}

    def settings(self, **overrides: Any) -> Settings:
        """Settings of an in-process Container using these servers (no in-process worker)."""
        values: dict[str, Any] = {
            "app_env": "test", "mongodb_uri": self.mongo.url, "redis_url": self.redis.url,
            "mongodb_db": self.db, "clerk_jwt_key": self.public_pem, "var_dir": self.tmp / "var",
            "media_dir": self.tmp / "media", "worker_in_process": False, "log_level": "WARNING",
        }
        return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]

    def token(self, clerk_id: str) -> str:
        """A session JWT for `clerk_id` that the benchmarked server accepts."""
        return mint_token(self.private_pem, clerk_id, ttl_s=3600)


@contextmanager
def bench_servers(prefix: str = "muse-bench-") -> Iterator[BenchServers]:
    """Start nx-27017 and Redis with their data in a temporary folder; stop and remove them after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        tmp = Path(name)
        mongo = start_mongo(tmp / "mongo")
        try:
            redis = start_redis(tmp / "redis", persist=False)
            try:
                yield BenchServers(tmp=tmp, mongo=mongo, redis=redis)
            finally:
                redis.stop()
        finally:
            mongo.stop()


def spawn(args: list[str], env: dict[str, str], output: IO[bytes] | None = None) -> subprocess.Popen:
    """`python -m app <args>` in the background, its output (log lines) to `output` or discarded."""
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, env=env,
                            stdout=output or subprocess.DEVNULL, stderr=subprocess.STDOUT if output else
                            subprocess.DEVNULL)


def stop_processes(processes: list[subprocess.Popen]) -> None:
    """Terminate every process, then wait for each (killing it after 10 s)."""
    for proc in processes:
        proc.terminate()
    for proc in processes:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def wait_http(url: str, *, limit_s: float = 60) -> None:
    """Poll `url` until it answers 200."""
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@asynccontextmanager
async def muse_server(env: dict[str, str]) -> AsyncIterator[str]:
    """Muse under Hypercorn (`python -m app serve`, one asyncio worker) on a free port; its base URL."""
    port = free_port()
    server = spawn(["serve", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_http(base + "/health/live")
        yield base
    finally:
        stop_processes([server])


@asynccontextmanager
async def running_container(settings: Settings) -> AsyncIterator[Container]:
    """A started Container (Beanie, Redis, services) for direct service calls; logs at settings' level."""
    configure_logging(settings.log_level)
    container = Container(settings)
    await container.start()
    try:
        yield container
    finally:
        await container.stop()


def percentile_ms(values: list[float], q: float) -> float:
    """The `q` quantile (0..1, nearest rank) of latencies in seconds, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


@dataclass
class LoadResult:
    """Latencies (seconds) of the calls of one load run, its wall time and failed calls."""

    latencies: list[float]
    elapsed: float
    errors: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile_ms(self.latencies, 0.5)

    @property
    def p99_ms(self) -> float:
        return percentile_ms(self.latencies, 0.99)


async def run_load(call: Callable[[int], Awaitable[bool | None]], *, concurrency: int,
                   n: int | None = None, seconds: float | None = None) -> LoadResult:
    """Run `call(i)` from `concurrency` concurrent clients, `n` calls in all or for `seconds`.

    A call returning False counts as an error; exceptions propagate.
    """
    if (n is None) == (seconds is None):
        raise ValueError("give exactly one of n and seconds")
    latencies: list[float] = []
    errors = 0
    indexes = iter(range(n)) if n is not None else itertools.count()
    stop_at = time.perf_counter() + seconds if seconds is not None else float("inf")

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < stop_at:
            i = next(indexes, None)
            if i is None:
                return
            started = time.perf_counter()
            ok = await call(i)
            latencies.append(time.perf_counter() - started)
            errors += ok is False

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return LoadResult(latencies, time.perf_counter() - began, errors)


async def http_load(session: aiohttp.ClientSession, method: str, url: str, *, concurrency: int,
                    n: int | None = None, seconds: float | None = None,
                    json_for: Callable[[int], Any] | None = None, headers: dict[str, str] | None = None,
                    expect: int = 200) -> LoadResult:
    """`run_load` of HTTP requests; an answer other than `expect` counts as an error."""

    async def call(i: int) -> bool:
        async with session.request(method, url, json=json_for(i) if json_for else None,
                                   headers=headers) as response:
            await response.read()
            return response.status == expect

    return await run_load(call, concurrency=concurrency, n=n, seconds=seconds)


def row(label: str, result: LoadResult, *, unit: str = "req/s", rate: bool = True, width: int = 44) -> str:
    """One figure line: rate, p50 and p99 (and the errors, if any)."""
    shown = f"{result.rps:9.1f} {unit}" if rate else f"{'–':>9} {' ' * len(unit)}"
    line = (f"  {label:<{width}}{shown}   p50 {result.p50_ms:7.2f} ms   p99 {result.p99_ms:7.2f} ms"
            f"   ({result.requests} calls")
    return line + (f", {result.errors} errors)" if result.errors else ")")


async def jit_user(base: str, token: str) -> dict[str, str]:
    """Create the token's user just in time (`GET /api/v1/me`); its Authorization header."""
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session, session.get(f"{base}/api/v1/me", headers=headers) as r:
        assert r.status == 200, await r.text()
    return headers


async def fund(settings: Settings, clerk_id: str, amount: int) -> None:
    """Grant `amount` balance credits to the user of `clerk_id` (through an in-process Container)."""
    async with running_container(settings) as container:
        user = await container.identity.users.ensure_clerk_user(clerk_id)
        await container.credits.service.grant(user.id, amount, ref=f"bench-{uuid.uuid4().hex}",
                                              reason="bench", request_id=None)
