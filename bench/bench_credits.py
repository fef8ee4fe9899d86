"""Credits benchmark: charges per second against the embedded MongoDB-wire server (nx-27017).

Starts its own nx-27017 and Redis servers, wires the real CreditsService (Beanie
documents and indexes as in production) and prints, in one run:
  1. sequential charges of 1 credit (one user, allowance then balance): charges/s, p50, p99;
  2. 64 concurrent charges of 1 credit on ONE account (worst case: every charge contends
     for the same document): charges/s, p50, p99, guard retries;
  3. 64 concurrent charges spread over 64 accounts (no contention): charges/s;
  4. sequential charge + refund pairs: pairs/s.
Each charge is: read account (or this process's snapshot) → guarded findAndModify (+pending op);
its ledger insert and pending clear follow off the request path, in batches (one insert and one
update per account per burst). After each scenario it prints how long the last batch took to land.
At the end it checks that every account's balance equals its ledger sum.

Run: .venv/bin/python bench/bench_credits.py   (BENCH_N=... to change the charge count)
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.wiring import Container  # noqa: E402
from bench.harness import bench_servers, row, run_load, running_container  # noqa: E402

N = int(os.environ.get("BENCH_N", "1000"))
CONCURRENCY = 64


async def run(container: Container) -> None:
    credits, accounts = container.credits.service, container.credits.accounts
    lost = {"n": 0}
    apply = accounts.apply

    async def counting_apply(op, change):  # counts updates refused by a guard (lost races)
        after = await apply(op, change)
        lost["n"] += after is None
        return after

    accounts.apply = counting_apply

    async def charge(user: str) -> None:
        await credits.charge(user, 1, plan="free", kind="chat", ref=None, request_id="bench")

    async def figure(label: str, result, unit: str = "charges/s") -> None:
        print(row(label, result, unit=unit, width=46))
        began = time.perf_counter()
        await credits.settle()  # the ledger entries and slot clears still in flight
        took = (time.perf_counter() - began) * 1000
        print(f"   ledger entries all written {took:.1f} ms after the last return")

    # 1. sequential
    await credits.grant("usr_seq", N * 10, ref="seed-seq", reason="bench", request_id=None)
    for _ in range(20):
        await charge("usr_seq")  # warm-up
    result = await run_load(lambda i: charge("usr_seq"), concurrency=1, n=N)
    await figure("1. sequential, one account", result)

    # 2. 64 concurrent on one account
    await credits.grant("usr_hot", N * 10, ref="seed-hot", reason="bench", request_id=None)
    lost["n"] = 0
    result = await run_load(lambda i: charge("usr_hot"), concurrency=CONCURRENCY, n=N)
    await figure(f"2. {CONCURRENCY} concurrent, one account", result)
    print(f"   guarded updates refused and retried: {lost['n']}")

    # 3. 64 concurrent over 64 accounts
    users = [f"usr_many_{i}" for i in range(CONCURRENCY)]
    for user in users:
        await credits.grant(user, N, ref=f"seed-{user}", reason="bench", request_id=None)
    result = await run_load(lambda i: charge(users[i % CONCURRENCY]), concurrency=CONCURRENCY, n=N)
    await figure(f"3. {CONCURRENCY} concurrent, {CONCURRENCY} accounts", result)

    # 4. charge + refund pairs
    async def pair(i: int) -> None:
        receipt = await credits.charge("usr_seq", 1, plan="free", kind="chat", ref=None, request_id="bench")
        await credits.refund(receipt, reason="bench", request_id="bench")

    result = await run_load(pair, concurrency=1, n=max(N // 4, 50))
    await figure("4. sequential charge+refund pairs", result, unit="pairs/s")

    bad = [u for u in ["usr_seq", "usr_hot", *users] if not (await credits.audit(u))["ok"]]
    print(f"ledger sum == balance for every account: {'yes' if not bad else 'NO: ' + ', '.join(bad)}")


async def main() -> None:
    with bench_servers() as servers:
        async with running_container(servers.settings()) as container:
            print(f"Credits benchmark: nx-27017 MongoDB-wire server, N={N} charges per scenario")
            await run(container)


if __name__ == "__main__":
    asyncio.run(main())
