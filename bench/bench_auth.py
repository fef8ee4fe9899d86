"""Benchmark: authenticated `GET /api/v1/me` at 32 concurrent clients, JWT vs API key.

Starts its own MongoDB-wire (nx-27017) and Redis servers and a real Hypercorn server
(`python -m app serve`, one worker) in a subprocess, then drives it with aiohttp and
prints requests/s and p50/p99 latency for each credential type.

    .venv/bin/python bench/bench_auth.py [--seconds 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import bench_servers, http_load, jit_user, muse_server, row  # noqa: E402


async def _api_key(base: str, headers: dict[str, str]) -> str:
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{base}/api/v1/api-keys", json={"name": "bench"}) as response:
            assert response.status == 201, await response.text()
            return (await response.json())["key"]


async def _run(args: argparse.Namespace) -> None:
    with bench_servers() as servers:
        async with muse_server(servers.env()) as base:
            token = servers.token("user_bench")
            key = await _api_key(base, await jit_user(base, token))
            await asyncio.sleep(6)  # steady state: the user's creation tombstone (5 s) expires, lookups cache
            print(f"GET /api/v1/me, {args.concurrency} concurrent clients, {args.seconds:.0f} s each "
                  "(Hypercorn, 1 worker, nx-27017 + Redis on loopback)")
            for label, credential in (("jwt", token), ("api_key", key)):
                connector = aiohttp.TCPConnector(limit=args.concurrency)
                async with aiohttp.ClientSession(connector=connector) as session:
                    headers = {"Authorization": f"Bearer {credential}"}
                    for seconds in (1, args.seconds):  # warm-up, then the measured run
                        result = await http_load(session, "GET", f"{base}/api/v1/me", headers=headers,
                                                 seconds=seconds, concurrency=args.concurrency)
                print(row(label, result, width=10))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    asyncio.run(_run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
