"""Chat benchmark: cache-hit chat next to /health/live, and uncached chat next to its upstream.

Starts its own MongoDB-wire and Redis servers, the OpenAI wire fake (in a thread)
and Muse under Hypercorn (one asyncio worker, rate limits off, LOG_LEVEL=WARNING),
then prints, in one run:
  1. GET /health/live and cache-hit POST /api/v1/chat at 32 concurrent clients: req/s, p50, p99;
  2. uncached POST /api/v1/chat through the fake OpenAI upstream, one request at a time,
     next to the same SDK call made directly to that upstream: p50/p99 and the added latency.

Run: .venv/bin/python bench/bench_chat.py   (BENCH_N=... to change the request count)
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.bootstrap import Container  # noqa: E402
from app.config import Settings  # noqa: E402
from app.embedded import start_mongo, start_redis  # noqa: E402
from services.auth_keys import generate_key_pair, mint_token  # noqa: E402
from tests.fakes.openai import FakeOpenAI  # noqa: E402

N = int(os.environ.get("BENCH_N", "2000"))
N_UNCACHED = int(os.environ.get("BENCH_N_UNCACHED", "200"))
CONCURRENCY = 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


async def load(session: aiohttp.ClientSession, method: str, url: str, *, n: int, concurrency: int,
               json_for=None, headers=None) -> tuple[float, list[float]]:
    """(req/s, latencies) for `n` requests from `concurrency` clients; every answer must be 200."""
    latencies: list[float] = []
    counter = iter(range(n))

    async def client() -> None:
        for i in counter:
            started = time.perf_counter()
            async with session.request(method, url, json=json_for(i) if json_for else None,
                                       headers=headers) as response:
                await response.read()
                assert response.status == 200, (response.status, await response.text())
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return n / (time.perf_counter() - started), latencies


def row(name: str, rps: float | None, lat: list[float]) -> str:
    rate = f"{rps:9.0f}" if rps is not None else "        –"
    return f"  {name:<44}{rate} req/s   p50 {pct(lat, .5):7.2f} ms   p99 {pct(lat, .99):7.2f} ms"


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    """Muse under Hypercorn, one asyncio worker."""
    return subprocess.Popen(
        [sys.executable, "-m", "hypercorn", "app.asgi:app", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--worker-class", "asyncio"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(url + "/health/live") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("Muse did not start")


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="muse-bench-"))
    mongo, redis = start_mongo(tmp / "mongo"), start_redis(tmp / "redis", persist=False)
    fake = FakeOpenAI().start()
    private, public = generate_key_pair()
    port = free_port()
    env = {**os.environ, "APP_ENV": "test", "MONGODB_URI": mongo.url, "REDIS_URL": redis.url,
           "MONGODB_DB": f"bench_{uuid.uuid4().hex[:8]}", "CLERK_JWT_KEY": public,
           "CHAT_PROVIDERS": "openai", "OPENAI_API_KEY": fake.api_key, "OPENAI_BASE_URL": fake.url + "/v1",
           "RATE_LIMITS_ENABLED": "false", "WORKER_IN_PROCESS": "false", "LOG_LEVEL": "WARNING",
           "VAR_DIR": str(tmp / "var"), "MEDIA_DIR": str(tmp / "media"), "NO_PROXY": "127.0.0.1,localhost"}
    server = start_server(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base)
        auth = {"Authorization": f"Bearer {mint_token(private, 'bench_user')}"}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
            async with session.get(base + "/api/v1/me", headers=auth) as response:  # creates the user
                await response.read()
            await fund(env, "bench_user")
            await run(session, base, auth, fake)
    finally:
        server.terminate()
        server.wait(10)
        fake.stop()
        mongo.stop()
        redis.stop()


async def fund(env: dict[str, str], clerk_id: str) -> None:
    """Give the bench user enough credits for every uncached request."""
    settings = Settings(_env_file=None, app_env="test", mongodb_uri=env["MONGODB_URI"],  # type: ignore[call-arg]
                        redis_url=env["REDIS_URL"], mongodb_db=env["MONGODB_DB"], log_level="WARNING",
                        chat_providers=["local"], image_providers=["local"])
    container = Container(settings)
    await container.start()
    try:
        user = await container.users.ensure_clerk_user(clerk_id)
        await container.credits.grant(user.id, 1_000_000, ref=f"bench-{uuid.uuid4().hex}", reason="bench",
                                      request_id=None)
    finally:
        await container.stop()


async def run(session: aiohttp.ClientSession, base: str, auth: dict[str, str], fake: FakeOpenAI) -> None:
    chat = base + "/api/v1/chat"
    hit = {"messages": [{"role": "user", "content": "cached question"}], "store": False}
    hit_stored = {"messages": [{"role": "user", "content": "cached question"}]}
    async with session.post(chat, json=hit, headers=auth) as response:  # fills the cache
        assert response.status == 200, await response.text()
    calls_before = fake.count()
    for _ in range(2):  # warm-up pass, then the measured one
        live = await load(session, "GET", base + "/health/live", n=N, concurrency=CONCURRENCY)
        cached = await load(session, "POST", chat, n=N, concurrency=CONCURRENCY, json_for=lambda i: hit,
                            headers=auth)
    stored = await load(session, "POST", chat, n=N // 2, concurrency=CONCURRENCY,
                        json_for=lambda i: hit_stored, headers=auth)
    assert fake.count() == calls_before, "cache hits must not reach the provider"

    import openai

    direct_client = openai.AsyncOpenAI(api_key=fake.api_key, base_url=fake.url + "/v1", max_retries=0)
    direct: list[float] = []
    via_muse: list[float] = []
    tag = uuid.uuid4().hex[:6]
    for i in range(N_UNCACHED):
        started = time.perf_counter()
        await direct_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"direct {tag} {i}"}], temperature=0.7)
        direct.append(time.perf_counter() - started)
        started = time.perf_counter()
        async with session.post(chat, json={"messages": [{"role": "user", "content": f"fresh {tag} {i}"}],
                                            "store": False}, headers=auth) as response:
            body = await response.json()
            assert response.status == 200 and body["cached"] is False, body
        via_muse.append(time.perf_counter() - started)
    await direct_client.close()

    print(f"Muse chat benchmark (1 Hypercorn asyncio worker, {os.cpu_count()} CPUs, rate limits off)")
    print(f"1) {CONCURRENCY} concurrent clients, {N} requests each run:")
    print(row("GET /health/live", *live))
    print(row("POST /api/v1/chat cache hit (store=false)", *cached))
    print(row("POST /api/v1/chat cache hit (store=true)", *stored))
    print(f"2) uncached chat, sequential, {N_UNCACHED} requests, fake OpenAI upstream:")
    print(row("OpenAI SDK → fake upstream directly", None, direct))
    print(row("POST /api/v1/chat → Muse → fake upstream", None, via_muse))
    print(f"  added latency: p50 {pct(via_muse, .5) - pct(direct, .5):.2f} ms, "
          f"p99 {pct(via_muse, .99) - pct(direct, .99):.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
