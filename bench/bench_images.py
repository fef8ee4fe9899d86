"""Image jobs benchmark: submit latency and job throughput through the `local` provider.

Starts its own MongoDB-wire and Redis servers, Muse under Hypercorn (no in-process
worker, rate limits off, LOG_LEVEL=WARNING) and then 1, later 2, separate worker
processes (`python -m app worker`). For each worker count it submits BENCH_N image
jobs (1:1, one output, local provider) from 8 concurrent clients and prints:
  submit latency p50/p99 (POST /api/v1/images → 202, measured while the workers run) and jobs/s,
  both over the processing window (first claim → last completion) and submit-to-done.

Run: .venv/bin/python bench/bench_images.py   (BENCH_N=... to change the job count)
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
from app.ids import new_id  # noqa: E402
from repositories.images import ImageDocument  # noqa: E402
from services.auth_keys import generate_key_pair, mint_token  # noqa: E402

N = int(os.environ.get("BENCH_N", "60"))
CONCURRENCY = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    """`python -m app <args>` in the background, output discarded."""
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


async def wait_http(url: str, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def submit_all(
    base: str, token: str, n: int, *, clients: int = CONCURRENCY
) -> tuple[list[float], list[str], float]:
    """POST n jobs from `clients` concurrent clients; (latencies, image ids, start time)."""
    latencies: list[float] = []
    ids: list[str] = []
    counter = iter(range(n))
    headers = {"Authorization": f"Bearer {token}"}

    async def client(session: aiohttp.ClientSession) -> None:
        for i in counter:
            started = time.perf_counter()
            async with session.post(
                f"{base}/api/v1/images", json={"prompt": f"bench picture {i}"}, headers=headers
            ) as r:
                body = await r.json()
                assert r.status == 202, body
            latencies.append(time.perf_counter() - started)
            ids.append(body["id"])

    async with aiohttp.ClientSession() as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return latencies, ids, t0


async def wait_done(ids: list[str], limit_s: float = 600) -> float:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        done = await ImageDocument.find(
            {"_id": {"$in": ids}, "status": {"$in": ["completed", "failed"]}}
        ).count()
        if done == len(ids):
            failed = await ImageDocument.find({"_id": {"$in": ids}, "status": "failed"}).count()
            assert failed == 0, f"{failed} jobs failed"
            return time.perf_counter()
        await asyncio.sleep(0.05)
    raise RuntimeError("jobs did not finish in time")


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="muse-bench-images-"))
    mongo, redis = start_mongo(tmp / "mongo"), start_redis(tmp / "redis", persist=False)
    private_pem, public_pem = generate_key_pair()
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "MONGODB_URI": mongo.url,
        "REDIS_URL": redis.url,
        "MONGODB_DB": f"bench_{uuid.uuid4().hex[:8]}",
        "CLERK_JWT_KEY": public_pem,
        "IMAGE_PROVIDERS": "local",
        "MEDIA_DIR": str(tmp / "media"),
        "RATE_LIMITS_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "WORKER_IN_PROCESS": "false",
        "QUEUE_NAME": f"bench:{uuid.uuid4().hex[:6]}",
        "NO_PROXY": "127.0.0.1",
    }
    settings = Settings(
        _env_file=None,
        mongodb_uri=mongo.url,
        redis_url=redis.url,
        mongodb_db=env["MONGODB_DB"],
        clerk_jwt_key=public_pem,
        queue_name=env["QUEUE_NAME"],
        log_level="WARNING",
    )
    server = spawn(["serve", "--port", str(port)], env)
    container = Container(settings)
    workers: list[subprocess.Popen] = []
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_http(f"{base}/health/live")
        await container.start()
        token = mint_token(private_pem, "bench_user")
        async with aiohttp.ClientSession() as session:  # creates the user just in time
            async with session.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == 200, await r.text()
        user = await container.users.ensure_clerk_user("bench_user")
        await container.credits.grant(user.id, 100_000, ref=new_id("bench"), reason="bench", request_id=None)
        print(
            f"image jobs through the local provider (1024x1024 WebP), {N} jobs, {CONCURRENCY} clients, "
            f"{os.cpu_count()} CPUs shared by server, workers, MongoDB and Redis"
        )
        idle, idle_ids, _ = await submit_all(base, token, 20, clients=1)
        print(
            f"  no worker running, 1 client: submit p50 {pct(idle, 0.5):.1f} ms, p99 {pct(idle, 0.99):.1f} ms"
        )
        for count in (1, 2):
            while len(workers) < count:
                workers.append(spawn(["worker"], env))
            await asyncio.sleep(2.0)  # let the workers connect
            await wait_done(idle_ids)
            latencies, ids, t0 = await submit_all(base, token, N)
            t1 = await wait_done(ids)
            docs = await ImageDocument.find({"_id": {"$in": ids}}).to_list()
            window = (max(d.finished_at for d in docs) - min(d.started_at for d in docs)).total_seconds()
            print(
                f"  {count} worker process{'es' if count > 1 else ''}: "
                f"submit p50 {pct(latencies, 0.5):.1f} ms, p99 {pct(latencies, 0.99):.1f} ms; "
                f"{N / window:.1f} jobs/s while processing ({window:.1f} s), "
                f"{N / (t1 - t0):.1f} jobs/s submit-to-done"
            )
    finally:
        for proc in [*workers, server]:
            proc.terminate()
        for proc in [*workers, server]:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        await container.stop()
        mongo.stop()
        redis.stop()


if __name__ == "__main__":
    asyncio.run(main())
