"""Metrics benchmark: the cost of recording metrics on the hot path, on vs off.

Starts its own MongoDB-wire and Redis servers and two Muse processes under Hypercorn
(one asyncio worker each, rate limits off, local chat provider): one with
`METRICS_ENABLED=true` (the default), one with `METRICS_ENABLED=false` (the no-op
port). Then prints:
  1. the cost of one recording call in-process (HTTP request + cache lookup, as a cache-hit
     chat records them), in microseconds;
  2. cache-hit POST /api/v1/chat through two in-process apps (Quart test client, no network), one
     request at a time, alternating rounds: best and median ms per request of the rounds;
  3. cache-hit POST /api/v1/chat and GET /health/live at 32 concurrent clients against each
     server, in alternating rounds (off, on, on, off, ...) so machine load hits both alike;
  4. the time to scrape /metrics.
The machine is shared: HTTP figures swing by tens of percent between runs (even between two
identical servers); the in-process figures (1, and the best rounds of 2) are the stable ones.

Run: .venv/bin/python bench/bench_metrics.py   (BENCH_N=... requests per round, BENCH_ROUNDS=...)
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    LoadResult,
    bench_servers,
    http_load,
    jit_user,
    muse_server,
    row,
)

N = int(os.environ.get("BENCH_N", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
CONCURRENCY = 32


def recording_cost_us(n: int = 200_000) -> tuple[float, float]:
    """Microseconds per (http_request + cache_request) with the Redis-backed recorder and the no-op one."""
    from repositories.metrics import RedisMetrics
    from services.platform.ports.metrics import NoMetrics

    results = []
    for metrics in (RedisMetrics(None, key="bench"), NoMetrics()):  # type: ignore[arg-type]  # no flush
        started = time.perf_counter()
        for i in range(n):
            metrics.http_request("POST", "/api/v1/chat", 200, 0.001 * (i % 50))
            metrics.cache_request("hit")
        results.append((time.perf_counter() - started) / n * 1e6)
    return results[0], results[1]


async def in_process_ms(servers: Any, rounds: int = 6, n: int = 300) -> dict[str, list[float]]:
    """ms per cache-hit chat through the Quart test client of an app with metrics on and one with them off."""
    from app import create_app
    from app.logging import configure_logging

    apps = {label: create_app(servers.settings(metrics_enabled=label == "on", chat_providers=["local"],
                                               image_providers=["local"]))
            for label in ("on", "off")}
    configure_logging("WARNING")
    auth = {"Authorization": "Bearer " + servers.token("bench_inproc")}
    hit = {"messages": [{"role": "user", "content": "cached in process"}], "store": False}
    per_request: dict[str, list[float]] = {"on": [], "off": []}
    async with apps["on"].test_app(), apps["off"].test_app():
        for application in apps.values():
            response = await application.test_client().post("/api/v1/chat", json=hit, headers=auth)
            assert response.status_code == 200, await response.get_data(as_text=True)
        for index in range(rounds):
            for label in ("off", "on") if index % 2 == 0 else ("on", "off"):
                client = apps[label].test_client()
                started = time.perf_counter()
                for _ in range(n):
                    await client.post("/api/v1/chat", json=hit, headers=auth)
                per_request[label].append((time.perf_counter() - started) / n * 1000)
    return per_request


def merge(results: list[LoadResult]) -> LoadResult:
    return LoadResult([x for r in results for x in r.latencies], sum(r.elapsed for r in results),
                      sum(r.errors for r in results))


async def main() -> None:
    on_us, off_us = recording_cost_us()
    with bench_servers() as servers:
        inproc = await in_process_ms(servers)
        common = {"CHAT_PROVIDERS": "local", "IMAGE_PROVIDERS": "local"}
        async with muse_server(servers.env(**common, METRICS_ENABLED="true")) as on, \
                muse_server(servers.env(**common, METRICS_ENABLED="false")) as off:
            auth = await jit_user(on, servers.token("bench_metrics"))
            connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
            async with aiohttp.ClientSession(connector=connector) as session:
                hit = {"messages": [{"role": "user", "content": "cached question"}], "store": False}
                for base in (on, off):  # fill the (shared) cache and warm both processes up
                    async with session.post(base + "/api/v1/chat", json=hit, headers=auth) as response:
                        assert response.status == 200, await response.text()
                    await http_load(session, "POST", base + "/api/v1/chat", n=N // 4, concurrency=CONCURRENCY,
                                    json_for=lambda i: hit, headers=auth)
                runs: dict[str, dict[str, list[LoadResult]]] = {
                    "off": {"chat": [], "live": []}, "on": {"chat": [], "live": []}}
                order = [("off", off), ("on", on)]
                for _ in range(ROUNDS):  # ABBA: off,on then on,off, so neither always runs first
                    for label, base in order:
                        runs[label]["chat"].append(await http_load(
                            session, "POST", base + "/api/v1/chat", n=N, concurrency=CONCURRENCY,
                            json_for=lambda i: hit, headers=auth))
                        runs[label]["live"].append(await http_load(
                            session, "GET", base + "/health/live", n=N, concurrency=CONCURRENCY))
                    order.reverse()
                scrape = await http_load(session, "GET", on + "/metrics", n=50, concurrency=1)
                async with session.get(on + "/metrics") as response:
                    series = sum(1 for line in (await response.text()).splitlines()
                                 if line and not line.startswith("#"))

    print(f"Muse metrics benchmark (1 Hypercorn asyncio worker per server, {os.cpu_count()} CPUs, shared "
          "machine: HTTP figures swing by tens of percent between runs, even between identical servers)")
    print(f"1) recording one cache-hit chat's metrics in-process: {on_us:.2f} µs with metrics on, "
          f"{off_us:.2f} µs with the no-op port")
    print("2) cache-hit POST /api/v1/chat in-process (test client), ms per request over the rounds:")
    for label in ("off", "on"):
        values = sorted(inproc[label])
        print(f"  metrics {label:<4} best {values[0]:.3f} ms   median {values[len(values) // 2]:.3f} ms")
    print(f"3) {CONCURRENCY} concurrent clients, {ROUNDS} alternating rounds of {N} requests:")
    results = {label: {k: merge(v) for k, v in kinds.items()} for label, kinds in runs.items()}
    for kind, title in (("chat", "POST /api/v1/chat cache hit"), ("live", "GET /health/live")):
        for label in ("off", "on"):
            print(row(f"{title}, metrics {label}", results[label][kind]))
        off_r, on_r = results["off"][kind], results["on"][kind]
        print(f"  → metrics on vs off: {100 * (on_r.rps / off_r.rps - 1):+.1f}% req/s, "
              f"p50 {on_r.p50_ms - off_r.p50_ms:+.2f} ms")
    print(f"4) GET /metrics ({series} series), sequential:")
    print(row("GET /metrics", scrape))


if __name__ == "__main__":
    asyncio.run(main())
