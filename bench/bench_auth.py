"""Benchmark: authenticated `GET /api/v1/me` at 32 concurrent clients, JWT vs API key.

Starts its own MongoDB-wire (nx-27017) and Redis servers and a real Hypercorn server
(`python -m app serve`, one worker) in a subprocess, then drives it with aiohttp and
prints requests/s and p50/p99 latency for each credential type.

    .venv/bin/python bench/bench_auth.py [--seconds 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.embedded import free_port, start_mongo, start_redis  # noqa: E402
from services.auth_keys import generate_key_pair, mint_token  # noqa: E402


async def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"{url}/health/live") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("server did not become ready")


async def _load(url: str, headers: dict[str, str], *, seconds: float, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                async with session.get(f"{url}/api/v1/me") as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


async def _prepare(url: str, token: str) -> str:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        async with session.get(f"{url}/api/v1/me") as response:
            assert response.status == 200, await response.text()
        async with session.post(f"{url}/api/v1/api-keys", json={"name": "bench"}) as response:
            assert response.status == 201, await response.text()
            return (await response.json())["key"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    private_pem, public_pem = generate_key_pair()
    with tempfile.TemporaryDirectory(prefix="muse-bench-") as tmp:
        mongo, redis = start_mongo(Path(tmp) / "mongo"), start_redis(Path(tmp) / "redis", persist=False)
        port = free_port()
        env = {**os.environ, "APP_ENV": "test", "MONGODB_URI": mongo.url, "REDIS_URL": redis.url,
               "MONGODB_DB": "bench", "CLERK_JWT_KEY": public_pem, "RATE_LIMITS_ENABLED": "false",
               "WORKER_IN_PROCESS": "false", "LOG_LEVEL": "WARNING", "VAR_DIR": str(Path(tmp) / "var"),
               "MEDIA_DIR": str(Path(tmp) / "media"), "NO_PROXY": "127.0.0.1,localhost"}
        for name in ("CLERK_AUTHORIZED_PARTIES", "CLERK_SECRET_KEY", "UPSTASH_REDIS_REST_URL"):
            env.pop(name, None)
        server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(_wait_ready(url))
            token = mint_token(private_pem, "user_bench", ttl_s=3600)
            key = asyncio.run(_prepare(url, token))
            time.sleep(6)  # steady state: the user's creation tombstone (5 s) expires, lookups cache
            print(f"GET /api/v1/me, {args.concurrency} concurrent clients, {args.seconds:.0f} s each "
                  "(Hypercorn, 1 worker, nx-27017 + Redis on loopback)")
            for label, credential in (("jwt", token), ("api_key", key)):
                asyncio.run(_load(url, {"Authorization": f"Bearer {credential}"}, seconds=1,
                                  concurrency=args.concurrency))  # warm-up
                r = asyncio.run(_load(url, {"Authorization": f"Bearer {credential}"}, seconds=args.seconds,
                                      concurrency=args.concurrency))
                print(f"  {label:8s} {r['rps']:8.1f} req/s   p50 {r['p50_ms']:7.2f} ms   "
                      f"p99 {r['p99_ms']:7.2f} ms   ({r['requests']} requests, {r['errors']} errors)")
        finally:
            server.terminate()
            server.wait(timeout=10)
            mongo.stop()
            redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
