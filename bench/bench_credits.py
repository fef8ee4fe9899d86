"""Credits benchmark: charges per second against the embedded MongoDB-wire server (nx-27017).

Starts its own nx-27017 and Redis servers, wires the real CreditsService (Beanie
documents and indexes as in production) and prints, in one run:
  1. sequential charges of 1 credit (one user, allowance then balance): charges/s, p50, p99;
  2. 64 concurrent charges of 1 credit on ONE account (worst case: every charge contends
     for the same document): charges/s, p50, p99, guard retries;
  3. 64 concurrent charges spread over 64 accounts (no contention): charges/s;
  4. sequential charge + refund pairs: pairs/s.
Each charge is: read account → guarded findAndModify (+pending op) → ledger insert → clear pending.
At the end it checks that every account's balance equals its ledger sum.

Run: .venv/bin/python bench/bench_credits.py   (BENCH_N=... to change the charge count)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.bootstrap import Container  # noqa: E402
from app.config import Settings  # noqa: E402
from app.embedded import start_mongo, start_redis  # noqa: E402
from app.logging import configure_logging  # noqa: E402

N = int(os.environ.get("BENCH_N", "1000"))
CONCURRENCY = 64


def _stats(label: str, latencies: list[float], elapsed: float, unit: str = "charges") -> None:
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    print(f"{label:<48} {len(lat) / elapsed:8.1f} {unit}/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")


async def _timed(fn) -> float:
    started = time.perf_counter()
    await fn()
    return time.perf_counter() - started


async def run(container: Container) -> None:
    credits, accounts = container.credits, container.credit_accounts
    lost = {"n": 0}
    apply = accounts.apply

    async def counting_apply(op, change):  # counts updates refused by a guard (lost races)
        after = await apply(op, change)
        lost["n"] += after is None
        return after

    accounts.apply = counting_apply

    async def charge(user: str) -> None:
        await credits.charge(user, 1, plan="free", kind="chat", ref=None, request_id="bench")

    # 1. sequential
    await credits.grant("usr_seq", N * 10, ref="seed-seq", reason="bench", request_id=None)
    for _ in range(20):
        await charge("usr_seq")  # warm-up
    started = time.perf_counter()
    latencies = [await _timed(lambda: charge("usr_seq")) for _ in range(N)]
    _stats("1. sequential, one account", latencies, time.perf_counter() - started)

    # 2. 64 concurrent on one account
    await credits.grant("usr_hot", N * 10, ref="seed-hot", reason="bench", request_id=None)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def gated(user: str) -> float:
        async with gate:
            return await _timed(lambda: charge(user))

    lost["n"] = 0
    started = time.perf_counter()
    latencies = await asyncio.gather(*[gated("usr_hot") for _ in range(N)])
    _stats(f"2. {CONCURRENCY} concurrent, one account", list(latencies), time.perf_counter() - started)
    print(f"   guarded updates refused and retried: {lost['n']}")

    # 3. 64 concurrent over 64 accounts
    users = [f"usr_many_{i}" for i in range(CONCURRENCY)]
    for user in users:
        await credits.grant(user, N, ref=f"seed-{user}", reason="bench", request_id=None)
    started = time.perf_counter()
    latencies = await asyncio.gather(*[gated(users[i % CONCURRENCY]) for i in range(N)])
    elapsed = time.perf_counter() - started
    _stats(f"3. {CONCURRENCY} concurrent, {CONCURRENCY} accounts", list(latencies), elapsed)

    # 4. charge + refund pairs
    async def pair() -> None:
        receipt = await credits.charge("usr_seq", 1, plan="free", kind="chat", ref=None, request_id="bench")
        await credits.refund(receipt, reason="bench", request_id="bench")

    n_pairs = max(N // 4, 50)
    started = time.perf_counter()
    latencies = [await _timed(pair) for _ in range(n_pairs)]
    _stats("4. sequential charge+refund pairs", latencies, time.perf_counter() - started, unit="pairs")

    bad = [u for u in ["usr_seq", "usr_hot", *users] if not (await credits.audit(u))["ok"]]
    print(f"ledger sum == balance for every account: {'yes' if not bad else 'NO: ' + ', '.join(bad)}")


async def main() -> None:
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        mongo, redis = start_mongo(Path(tmp) / "mongo"), start_redis(Path(tmp) / "redis", persist=False)
        try:
            settings = Settings(_env_file=None, app_env="test", mongodb_uri=mongo.url,  # type: ignore[call-arg]
                                redis_url=redis.url, mongodb_db=f"bench_{uuid.uuid4().hex[:8]}",
                                var_dir=Path(tmp) / "var", worker_in_process=False, log_level="WARNING")
            container = Container(settings)
            await container.start()
            print(f"Credits benchmark: nx-27017 MongoDB-wire server, N={N} charges per scenario")
            try:
                await run(container)
            finally:
                await container.stop()
        finally:
            redis.stop()
            mongo.stop()


if __name__ == "__main__":
    asyncio.run(main())
