"""OpenAI-compatible API benchmark: uncached /v1/chat/completions side by side with /api/v1/chat.

Starts its own MongoDB-wire and Redis servers, the OpenAI wire fake (in a thread) as the
only chat upstream, and Muse under Hypercorn (one asyncio worker, rate limits off,
LOG_LEVEL=WARNING), then prints, in one run:
  1. uncached chat, one request at a time, interleaved: the SDK straight to the fake upstream,
     POST /api/v1/chat (store=false), POST /v1/chat/completions (same HTTP client), and the
     OpenAI SDK pointed at Muse's /v1: p50/p99 and the latency each adds to the upstream;
  2. uncached chat at 16 concurrent clients: /api/v1/chat next to /v1/chat/completions (req/s),
     twice, in both orders (the /api/v1/chat requests use store=false).

Run: .venv/bin/python bench/bench_openai.py   (BENCH_N_UNCACHED=... to change the request count)
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

N_UNCACHED = int(os.environ.get("BENCH_N_UNCACHED", "200"))
CONCURRENCY = 16
API, V1 = "/api/v1/chat", "/v1/chat/completions"


async def main() -> None:
    fake = FakeOpenAI().start()
    try:
        with bench_servers() as servers:
            env = servers.env(CHAT_PROVIDERS="openai", OPENAI_API_KEY=fake.api_key,
                              OPENAI_BASE_URL=fake.url + "/v1")
            async with muse_server(env) as base:
                auth = await jit_user(base, servers.token("bench_openai"))
                await fund(servers.settings(chat_providers=["local"], image_providers=["local"]),
                           "bench_openai", 1_000_000)
                connector = aiohttp.TCPConnector(limit=CONCURRENCY)
                async with aiohttp.ClientSession(connector=connector) as session:
                    await run(session, base, auth, fake)
    finally:
        fake.stop()


async def run(session: aiohttp.ClientSession, base: str, auth: dict[str, str], fake: FakeOpenAI) -> None:
    import openai

    tag = uuid.uuid4().hex[:6]
    token = auth["Authorization"].removeprefix("Bearer ")
    upstream = openai.AsyncOpenAI(api_key=fake.api_key, base_url=fake.url + "/v1", max_retries=0)
    via_sdk = openai.AsyncOpenAI(api_key=token, base_url=base + "/v1", max_retries=0)
    direct, api_chat, v1_chat, v1_sdk = (LoadResult([], 0.0) for _ in range(4))

    async def timed(result: LoadResult, call) -> None:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        await call()
        result.latencies.append(time.perf_counter() - started)

    async def post(path: str, body: dict, check) -> None:  # type: ignore[no-untyped-def]
        async with session.post(base + path, json=body, headers=auth) as response:
            data = await response.json()
            assert response.status == 200 and check(data, response), data

    def question(kind: str, i: int) -> list[dict[str, str]]:
        return [{"role": "user", "content": f"{kind} {tag} {i}"}]

    async def one_round(i: int) -> None:
        await timed(direct, lambda: upstream.chat.completions.create(
            model="gpt-4o-mini", messages=question("direct", i), temperature=0.7))
        await timed(api_chat, lambda: post("/api/v1/chat", {"messages": question("api", i), "store": False},
                                           lambda d, r: d["cached"] is False))
        v1_body = {"model": "default", "messages": question("v1", i), "temperature": 0.7}
        await timed(v1_chat, lambda: post("/v1/chat/completions", v1_body,
                                          lambda d, r: r.headers["X-Muse-Cached"] == "false"))
        await timed(v1_sdk, lambda: via_sdk.chat.completions.create(
            model="default", messages=question("sdk", i), temperature=0.7))

    for i in range(10):  # warm-up rounds, not counted
        await one_round(-1 - i)
    for result in (direct, api_chat, v1_chat, v1_sdk):
        result.latencies.clear()
    for i in range(N_UNCACHED):
        await one_round(i)
    await upstream.close()
    await via_sdk.close()

    async def concurrent(path: str, kind: str, body) -> LoadResult:  # type: ignore[no-untyped-def]
        return await http_load(session, "POST", base + path, n=N_UNCACHED * 2, concurrency=CONCURRENCY,
                               headers=auth, json_for=lambda i: body(question(kind, i)))

    def api_body(messages: list[dict[str, str]]) -> dict:
        return {"messages": messages, "store": False}

    def v1_body(messages: list[dict[str, str]]) -> dict:
        return {"model": "default", "messages": messages}

    runs: list[tuple[str, LoadResult]] = []
    for run_no, order in enumerate(((API, V1), (V1, API))):  # both orders: the server warms up as it goes
        for path in order:
            result = await concurrent(path, f"{path}-{run_no}", api_body if path == API else v1_body)
            assert result.errors == 0, "every answer must be 200"
            runs.append((f"run {run_no + 1}: POST {path}", result))

    print(f"Muse OpenAI-compatible API benchmark (1 Hypercorn asyncio worker, {os.cpu_count()} CPUs, "
          "rate limits off, fake OpenAI upstream)")
    print(f"1) uncached chat, sequential and interleaved, {N_UNCACHED} requests each:")
    print(row("OpenAI SDK → fake upstream directly", direct, rate=False, width=56))
    for label, result in (("POST /api/v1/chat → Muse → upstream (aiohttp)", api_chat),
                          ("POST /v1/chat/completions → Muse → upstream (aiohttp)", v1_chat),
                          ("OpenAI SDK → Muse /v1 → upstream", v1_sdk)):
        p50, p99 = (percentile_ms(result.latencies, q) - percentile_ms(direct.latencies, q)
                    for q in (.5, .99))
        print(row(label, result, rate=False, width=56) + f"   adds p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"2) uncached chat, {CONCURRENCY} concurrent clients, {N_UNCACHED * 2} requests each:")
    for label, result in runs:
        print(row(label, result, width=56))


if __name__ == "__main__":
    asyncio.run(main())
