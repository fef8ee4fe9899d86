"""The usage rollup equals a full aggregation of the ledger (property test, real MongoDB/Redis):
after a random workload of charges (some concurrent, some through API keys, with models and
units), refunds (some repeated), reversals and purchases, and rollup writes that crash part-way
and are repaired, every rollup row equals the sum over the ledger's entries."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repositories.credits import BeanieCreditAccountRepository
from repositories.ledger import BeanieLedgerRepository, LedgerEntryDocument
from repositories.usage import MongoUsageRollup, UsageDailyDocument
from services.credits.service import CreditsService
from services.credits.usage import report
from services.platform import key_limits
from services.platform.catalog import Catalog

FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)


class CrashingRollup(MongoUsageRollup):
    """The real rollup, made to crash once before counting or between counting and unmarking."""

    def __init__(self) -> None:
        self.crash: str | None = None

    async def _count(self, bucket, entries):
        if self.crash == "before":
            self.crash = None
            raise RuntimeError("crash before counting")
        await super()._count(bucket, entries)
        if self.crash == "after":
            self.crash = None
            raise RuntimeError("crash after counting")


charge = st.tuples(st.just("charge"), st.integers(0, 2), st.integers(1, 4),
                   st.sampled_from(["chat", "image"]), st.sampled_from([None, "default", "pro"]),
                   st.sampled_from([None, "key_a", "key_b"]),
                   st.integers(1, 6))
refund = st.tuples(st.just("refund"), st.integers(0, 1000), st.booleans())
reversal = st.tuples(st.just("reversal"), st.integers(0, 2), st.integers(1, 30))
crash = st.tuples(st.just("crash"), st.sampled_from(["before", "after"]))
workloads = st.lists(st.one_of(charge, charge, refund, reversal, crash), min_size=1, max_size=14)


def aggregate_ledger(docs: list[dict], group_by: str) -> dict[tuple, Counter]:
    """What the rollup must report: a full pass over the ledger's charges and refunds, by user,
    UTC day of the charge and `group_by` (day, kind, model or api_key)."""
    out: dict[tuple, Counter] = defaultdict(Counter)
    for doc in docs:
        meta = doc.get("meta") or {}
        if doc["kind"] == "charge":
            day, of = doc["at"].strftime("%Y-%m-%d"), {**meta, "kind": meta.get("item")}
            add = {"requests": 1, "credits": -doc["delta"], **(meta.get("units") or {})}
        elif doc["kind"] == "refund":
            charge = meta["charge"]
            day, of = charge["at"][:10], {**charge, "kind": charge.get("item")}
            add = {"credits": -charge["amount"], "refunded_credits": charge["amount"]}
        else:
            continue
        field = {"api_key": "api_key_id"}.get(group_by, group_by)
        value = day if group_by == "day" else of.get(field) or None
        out[(doc["user_id"], day, value)].update(add)
    return {k: +v for k, v in out.items() if +v}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(workload=workloads)
async def test_rollup_equals_the_ledger_aggregation(container, workload):
    rollup = CrashingRollup()
    credits = CreditsService(BeanieCreditAccountRepository(), BeanieLedgerRepository(),
                             Catalog.default(container.settings), usage=rollup)
    users = [f"usr_{uuid.uuid4().hex[:10]}" for _ in range(3)]
    for user in users:
        await credits.grant(user, 10_000, ref=f"seed:{user}", reason=None, request_id=None)
    receipts = []

    async def one_charge(user, amount, kind, model, key):
        token = key_limits.bind(key_limits.KeyLimits(key_id=key) if key else None)
        try:
            units = {"images": amount} if kind == "image" else None
            return await credits.charge(user, amount, plan="free", kind=kind, ref=None, request_id=None,
                                        model=model, units=units)
        finally:
            key_limits.reset(token)

    for step in workload:
        if step[0] == "charge":
            _, who, amount, kind, model, key, parallel = step
            receipts += await asyncio.gather(*(one_charge(users[who], amount, kind, model, key)
                                               for _ in range(parallel)))
        elif step[0] == "refund" and receipts:
            _, index, twice = step
            receipt = receipts[index % len(receipts)]
            await asyncio.gather(*(credits.refund(receipt, reason="test", request_id=None)
                                   for _ in range(2 if twice else 1)))
        elif step[0] == "reversal":
            _, who, amount = step
            await credits.reverse(users[who], amount, ref=uuid.uuid4().hex, reason="refund", request_id=None)
        elif step[0] == "crash":
            rollup.crash = step[1]
    await credits.settle()
    rollup.crash = None  # a crash planned after the last batch never happened
    await rollup.repair(older_than=FAR_FUTURE)  # what the reconcile job does for crashed batches

    mine = {"user_id": {"$in": users}}
    ledger = await LedgerEntryDocument.get_pymongo_collection().find(mine).to_list(None)
    assert not [d["_id"] for d in ledger if d.get("unrolled")]
    rows = await UsageDailyDocument.get_pymongo_collection().find(mine).to_list(None)
    assert not [k for row in rows for k in row if k.startswith("p_")]  # nothing left parked
    for group_by in ("day", "kind", "model", "api_key"):
        got = {}
        for user in users:
            for row in await rollup.rows(user, first="2000-01-01", last="2999-12-31"):
                grouped = report([row], first=row["day"], last=row["day"], group_by=group_by)
                for line in grouped.rows:
                    counts = +Counter({k: v for k, v in line.items() if k != "key"})
                    if counts:
                        got[(user, row["day"], line["key"])] = counts
        assert got == aggregate_ledger(ledger, group_by), group_by
    # and the report's totals per user equal the ledger's net charges
    for user in users:
        net = -sum(d["delta"] for d in ledger if d["user_id"] == user and d["kind"] in ("charge", "refund"))
        whole = report(await rollup.rows(user, first="2000-01-01", last="2999-12-31"), first="2000-01-01",
                       last="2999-12-31", group_by="kind")
        assert whole.totals["credits"] == net
