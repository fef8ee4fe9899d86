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
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    LoadResult,
    bench_servers,
    jit_user,
    muse_server,
    run_load,
    running_container,
    spawn,
    stop_processes,
)
from repositories.images import ImageDocument  # noqa: E402
from services.platform.ids import new_id  # noqa: E402

N = int(os.environ.get("BENCH_N", "60"))
CONCURRENCY = 8


async def submit_all(base: str, headers: dict[str, str], n: int, *, clients: int = CONCURRENCY
                     ) -> tuple[LoadResult, list[str], float]:
    """POST n jobs from `clients` concurrent clients; (submit latencies, image ids, start time)."""
    ids: list[str] = []

    async def submit(i: int) -> None:
        async with session.post(f"{base}/api/v1/images", json={"prompt": f"bench picture {i}"},
                                headers=headers) as r:
            body = await r.json()
            assert r.status == 202, body
        ids.append(body["id"])

    async with aiohttp.ClientSession() as session:
        t0 = time.perf_counter()
        result = await run_load(submit, concurrency=clients, n=n)
    return result, ids, t0


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


def submit_figures(result: LoadResult) -> str:
    return f"submit p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"


async def run(base: str, env: dict[str, str], headers: dict[str, str],
              workers: list[subprocess.Popen]) -> None:
    """Submit jobs with no worker, then with 1 and 2 worker processes; print the figures."""
    print(
        f"image jobs through the local provider (1024x1024 WebP), {N} jobs, {CONCURRENCY} clients, "
        f"{os.cpu_count()} CPUs shared by server, workers, MongoDB and Redis"
    )
    idle, idle_ids, _ = await submit_all(base, headers, 20, clients=1)
    print(f"  no worker running, 1 client: {submit_figures(idle)}")
    for count in (1, 2):
        while len(workers) < count:
            workers.append(spawn(["worker"], env))
        await asyncio.sleep(2.0)  # let the workers connect
        await wait_done(idle_ids)
        submitted, ids, t0 = await submit_all(base, headers, N)
        t1 = await wait_done(ids)
        docs = await ImageDocument.find({"_id": {"$in": ids}}).to_list()
        window = (max(d.finished_at for d in docs) - min(d.started_at for d in docs)).total_seconds()
        print(
            f"  {count} worker process{'es' if count > 1 else ''}: {submit_figures(submitted)}; "
            f"{N / window:.1f} jobs/s while processing ({window:.1f} s), "
            f"{N / (t1 - t0):.1f} jobs/s submit-to-done"
        )


async def main() -> None:
    with bench_servers(prefix="muse-bench-images-") as servers:
        queue = f"bench:{uuid.uuid4().hex[:6]}"
        env = servers.env(IMAGE_PROVIDERS="local", QUEUE_NAME=queue)
        workers: list[subprocess.Popen] = []
        async with muse_server(env) as base, running_container(servers.settings(queue_name=queue)) as c:
            try:
                headers = await jit_user(base, servers.token("bench_user"))
                user = await c.identity.users.ensure_clerk_user("bench_user")
                await c.credits.service.grant(user.id, 100_000, ref=new_id("bench"), reason="bench",
                                              request_id=None)
                await run(base, env, headers, workers)
            finally:
                stop_processes(workers)


if __name__ == "__main__":
    asyncio.run(main())
