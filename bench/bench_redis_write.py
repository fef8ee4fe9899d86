"""Redis socket-timeout benchmark: client CPU per command sent alone, with and without one.

With a socket timeout, redis-py 5 runs each write in `asyncio.wait_for` (a task of its own, and on
Python 3.11 a cancellation landing as the write completes is lost: README, "Stopping") and each read
in a timeout of its own. Muse's client (`repositories/redis_client.py` `connect_redis`) has none: its
guard bounds every command. Starts its own Redis; the guarded client sends BENCH_N GETs one at a
time with and without a socket timeout, in alternating rounds, and prints the process CPU and wall
time per GET (the medians and best of the rounds at the end).

Run: .venv/bin/python bench/bench_redis_write.py   (BENCH_N=..., BENCH_ROUNDS=...)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.embedded import start_redis  # noqa: E402
from repositories.redis_client import connect_redis  # noqa: E402

N = int(os.environ.get("BENCH_N", "20000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


async def per_get(url: str, socket_timeout: float | None) -> tuple[float, float]:
    """(CPU µs, wall µs) per GET sent alone."""
    client = connect_redis(url, timeout_s=5.0)
    client.connection_pool.connection_kwargs["socket_timeout"] = socket_timeout
    try:
        await client.set("bench:write", "v")
        for _ in range(N // 10):  # warm-up
            await client.get("bench:write")
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(N):
            await client.get("bench:write")
        return (time.process_time() - cpu) / N * 1e6, (time.perf_counter() - wall) / N * 1e6
    finally:
        await client.aclose()


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="muse-bench-") as folder:
        server = start_redis(Path(folder) / "redis", persist=False)
        cpus: dict[str, list[float]] = {}
        try:
            for round_ in range(ROUNDS):
                for label, socket_timeout in (("socket timeout 5 s", 5.0), ("guard only (Muse)", None)):
                    cpu, wall = await per_get(server.url, socket_timeout)
                    cpus.setdefault(label, []).append(cpu)
                    print(f"round {round_ + 1}  {label:20} {cpu:6.1f} µs CPU  {wall:6.1f} µs wall per GET",
                          flush=True)
        finally:
            server.stop()
        for label, values in cpus.items():
            values.sort()
            print(f"{label:20} median {values[len(values) // 2]:6.1f}  best {values[0]:6.1f} µs CPU per GET")


if __name__ == "__main__":
    asyncio.run(main())
