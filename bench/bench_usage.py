"""Usage report benchmark (issue 29): `GET /api/v1/usage` for a user with 1 000 000 ledger rows over
90 days, on the embedded stack (nx-27017 + Redis).

Seeds the user's ledger (1 000 000 charge and refund entries over 90 UTC days, 5 kinds, 3 models,
3 API keys, inserted in unordered batches of 10 000 raw documents) and the usage rollup those
entries make (computed with the same `contribution` the live path uses), so the seeding costs
one pass (one rollup document per day). Then times the report through the HTTP app in-process (auth, policy,
the handler: one index-backed rollup query and the grouping) for each `group_by`, and prints p50
and p99. The report never reads the ledger, so its cost follows the days asked for (90 documents),
not the ledger's rows.

Run: .venv/bin/python bench/bench_usage.py   (BENCH_ROWS=... BENCH_N=... to change the sizes)
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.factory import create_app  # noqa: E402
from app.wiring import Container  # noqa: E402
from bench.harness import bench_servers, percentile_ms, running_container  # noqa: E402
from repositories.credits import op_to_doc  # noqa: E402
from repositories.ledger import LedgerEntryDocument  # noqa: E402
from repositories.usage import UsageDailyDocument  # noqa: E402
from services.credits.model import Op  # noqa: E402
from services.credits.usage import contribution, fields  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
N = int(os.environ.get("BENCH_N", "200"))
DAYS = 90
KINDS = ("chat", "image", "image_edit", "image_describe", "video")
MODELS = ("default", "pro", "replicate")
KEYS = (None, "key_bench_a", "key_bench_b")


async def seed(user_id: str) -> float:
    began = time.perf_counter()
    rng = random.Random(29)
    ledger = LedgerEntryDocument.get_pymongo_collection()
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=DAYS - 1)
    days: dict[str, dict] = {}
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    batch: list[dict] = []
    for i in range(ROWS):
        at = start + timedelta(seconds=i * DAYS * 86400 // ROWS)
        kind, model, key = rng.choice(KINDS), rng.choice(MODELS), rng.choice(KEYS)
        meta = {"item": kind, "model": model, **({"api_key_id": key} if key else {})}
        if i % 20 == 19:  # one entry in 20 is a refund of a 1-credit charge
            op = Op(id=f"led_b{i:09d}", key=f"refund:b{i}", user_id=user_id, kind="refund", at=at, delta=1,
                    sources={"balance": 1}, meta={"charge": {**meta, "at": at.isoformat(), "amount": 1}})
        else:
            op = Op(id=f"led_b{i:09d}", key=f"led_b{i:09d}", user_id=user_id, kind="charge", at=at, delta=-1,
                    sources={"balance": -1}, meta=meta)
        bucket, inc = contribution(op)  # type: ignore[misc]
        days[bucket.id] = {"user_id": bucket.user_id, "day": bucket.day}
        for name, value in fields(bucket, inc).items():
            sums[bucket.id][name] += value
        batch.append(op_to_doc(op))
        if len(batch) == 10_000:
            await ledger.insert_many(batch, ordered=False)
            batch = []
    if batch:
        await ledger.insert_many(batch, ordered=False)
    docs = [{"_id": rid, **head, **sums[rid]} for rid, head in days.items()]
    await UsageDailyDocument.get_pymongo_collection().insert_many(docs, ordered=False)
    print(f"  seeded {ROWS} ledger rows and {len(docs)} rollup rows in {time.perf_counter() - began:.1f} s")
    return time.perf_counter() - began


async def run(container: Container, token: str) -> None:
    user = await container.identity.users.ensure_clerk_user("user_bench_usage")
    await seed(user.id)
    app = create_app(container=container)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    first = (datetime.now(UTC) - timedelta(days=DAYS - 1)).date().isoformat()
    for group_by in ("day", "kind", "model", "api_key"):
        url = f"/api/v1/usage?from={first}&group_by={group_by}"
        answer = await client.get(url, headers=headers)
        body = await answer.get_json()
        assert answer.status_code == 200, body
        latencies = []
        for _ in range(N):
            began = time.perf_counter()
            response = await client.get(url, headers=headers)
            await response.get_data()
            latencies.append(time.perf_counter() - began)
        print(f"  GET /api/v1/usage group_by={group_by:<8} {len(body['rows']):4d} rows   "
              f"p50 {percentile_ms(latencies, 0.5):7.2f} ms   p99 {percentile_ms(latencies, 0.99):7.2f} ms"
              f"   (totals: {body['totals']['requests']} requests, {body['totals']['credits']} credits)")


async def main() -> None:
    with bench_servers() as servers:
        settings = servers.settings(rate_limits_enabled=False, mongodb_timeout_s=120.0)
        async with running_container(settings) as container:
            await run(container, servers.token("user_bench_usage"))


if __name__ == "__main__":
    asyncio.run(main())
