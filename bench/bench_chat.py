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
import sys
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    LoadResult,
    bench_servers,
    fund,
    http_load,
    jit_user,
    muse_server,
    percentile_ms,
    row,
)
from tests.fakes.openai import FakeOpenAI  # noqa: E402

N = int(os.environ.get("BENCH_N", "2000"))
N_UNCACHED = int(os.environ.get("BENCH_N_UNCACHED", "200"))
CONCURRENCY = 32


async def main() -> None:
    fake = FakeOpenAI().start()
    try:
        with bench_servers() as servers:
            env = servers.env(CHAT_PROVIDERS="openai", OPENAI_API_KEY=fake.api_key,
                              OPENAI_BASE_URL=fake.url + "/v1")
            async with muse_server(env) as base:
                auth = await jit_user(base, servers.token("bench_user"))
                # enough credits for every uncached request
                await fund(servers.settings(chat_providers=["local"], image_providers=["local"]),
                           "bench_user", 1_000_000)
                connector = aiohttp.TCPConnector(limit=CONCURRENCY)
                async with aiohttp.ClientSession(connector=connector) as session:
                    await run(session, base, auth, fake)
    finally:
        fake.stop()


async def run(session: aiohttp.ClientSession, base: str, auth: dict[str, str], fake: FakeOpenAI) -> None:
    chat = base + "/api/v1/chat"
    hit = {"messages": [{"role": "user", "content": "cached question"}], "store": False}
    hit_stored = {"messages": [{"role": "user", "content": "cached question"}]}
    async with session.post(chat, json=hit, headers=auth) as response:  # fills the cache
        assert response.status == 200, await response.text()
    calls_before = fake.count()
    for _ in range(2):  # warm-up pass, then the measured one
        live = await http_load(session, "GET", base + "/health/live", n=N, concurrency=CONCURRENCY)
        cached = await http_load(session, "POST", chat, n=N, concurrency=CONCURRENCY, json_for=lambda i: hit,
                                 headers=auth)
    stored = await http_load(session, "POST", chat, n=N // 2, concurrency=CONCURRENCY,
                             json_for=lambda i: hit_stored, headers=auth)
    assert live.errors == cached.errors == stored.errors == 0, "every answer must be 200"
    assert fake.count() == calls_before, "cache hits must not reach the provider"

    import openai

    direct_client = openai.AsyncOpenAI(api_key=fake.api_key, base_url=fake.url + "/v1", max_retries=0)
    direct = LoadResult([], 0.0)
    via_muse = LoadResult([], 0.0)
    tag = uuid.uuid4().hex[:6]
    for i in range(N_UNCACHED):
        started = time.perf_counter()
        await direct_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"direct {tag} {i}"}], temperature=0.7)
        direct.latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        async with session.post(chat, json={"messages": [{"role": "user", "content": f"fresh {tag} {i}"}],
                                            "store": False}, headers=auth) as response:
            body = await response.json()
            assert response.status == 200 and body["cached"] is False, body
        via_muse.latencies.append(time.perf_counter() - started)
    await direct_client.close()

    print(f"Muse chat benchmark (1 Hypercorn asyncio worker, {os.cpu_count()} CPUs, rate limits off)")
    print(f"1) {CONCURRENCY} concurrent clients, {N} requests each run:")
    print(row("GET /health/live", live))
    print(row("POST /api/v1/chat cache hit (store=false)", cached))
    print(row("POST /api/v1/chat cache hit (store=true)", stored))
    print(f"2) uncached chat, sequential, {N_UNCACHED} requests, fake OpenAI upstream:")
    print(row("OpenAI SDK → fake upstream directly", direct, rate=False))
    print(row("POST /api/v1/chat → Muse → fake upstream", via_muse, rate=False))
    p50, p99 = (percentile_ms(via_muse.latencies, q) - percentile_ms(direct.latencies, q) for q in (.5, .99))
    print(f"  added latency: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
