"""The daily usage rollup (`usage_daily`), kept exact per ledger entry, crash-safe and idempotent.

Each ledger entry that counts as usage is written with `unrolled: true`. Rolling it up takes
three steps, the same parking scheme as the credit accounts' pending ops:

1. one conditional upsert of its rollup row adds its contribution and parks its id in the row
   (`p_<entry id>`), on condition the id is not parked there yet — so a repeat is refused
   (E11000 on the row's `_id`) and nothing is counted twice;
2. the ledger entry loses its `unrolled` mark;
3. the row forgets the parked id.

A row is one user's UTC day (flat counters for the day and per kind, model and API key).

A crash after 1 leaves the entry marked and its id parked: the repair (the credits reconcile job)
repeats 1, which the parked id refuses, then 2 and 3. A crash before 1 leaves the entry marked and
nothing counted: the repair counts it. Entries of one row in one batch go in one upsert. A day is
a string field and the counters are top-level fields (nx-27017 upserts dotted paths as literal
names). Reads are one index-backed query by (user_id, day).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pymongo
from pymongo.errors import DuplicateKeyError

from repositories.credits import op_from_doc
from repositories.documents import MuseDocument
from repositories.ledger import LedgerEntryDocument
from services.credits.model import Bucket, Op
from services.credits.ports import Counted
from services.credits.usage import contribution, fields

REPAIR_BATCH = 1000


class UsageDailyDocument(MuseDocument):
    """One user's usage on one UTC day: flat counters `t|<counter>` and `<kind|model|key>|<value>|<counter>`
    (services/credits/usage.py `fields`), and the ids of entries being counted (`p_<entry id>`)."""

    id: str  # type: ignore[assignment]  # "<user>|<day>"
    user_id: str
    day: str

    class Settings:
        name = "usage_daily"
        indexes = [pymongo.IndexModel([("user_id", pymongo.ASCENDING), ("day", pymongo.ASCENDING)],
                                      name="user_day"),
                   pymongo.IndexModel([("day", pymongo.ASCENDING)], name="day")]  # admin analytics


def _park(op_id: str) -> str:
    return "p_" + op_id


class MongoUsageRollup:
    """The rollup over MongoDB (see the module docstring for the protocol)."""

    @property
    def _col(self):
        return UsageDailyDocument.get_pymongo_collection()

    @property
    def _ledger(self):
        return LedgerEntryDocument.get_pymongo_collection()

    async def roll(self, ops: list[Op], counted: Sequence[Counted] = ()) -> None:
        """Count freshly written ledger entries and `counted` provider usage (each once, whatever is
        repeated): one upsert per row for all of them."""
        rows: dict[str, tuple[Bucket, list[tuple[str, dict[str, int]]]]] = {}
        ids = []
        for op in ops:
            found = contribution(op)
            if found is not None:
                bucket, inc = found
                rows.setdefault(bucket.id, (bucket, []))[1].append((op.id, fields(bucket, inc)))
                ids.append(op.id)
        for one in counted:
            rows.setdefault(one.bucket.id, (one.bucket, []))[1].append((one.ref, fields(one.bucket, one.inc)))
        if not rows:
            return
        for bucket, entries in rows.values():
            await self._count(bucket, entries)
        if ids:
            await self._ledger.update_many({"_id": {"$in": ids}}, {"$unset": {"unrolled": ""}})
        for bucket, entries in rows.values():
            await self._col.update_one({"_id": bucket.id}, {"$unset": {_park(i): "" for i, _ in entries}})

    async def days(self, *, first: str, last: str) -> list[dict[str, Any]]:
        """Every user's day documents for days first..last (admin analytics): the `day` index."""
        flt = {"$and": [{"day": {"$gte": first}}, {"day": {"$lte": last}}]}
        return await self._col.find(flt).to_list(None)

    async def _count(self, bucket: Bucket, entries: list[tuple[str, dict[str, int]]]) -> None:
        if len(entries) > 1 and await self._upsert(bucket, entries):
            return
        for entry in entries:  # one by one: some were parked already (a repeat) or a race on creation
            for _ in range(5):
                if await self._upsert(bucket, [entry]):
                    break
                row = await self._col.find_one({"_id": bucket.id}, {_park(entry[0]): 1})
                if row is not None and _park(entry[0]) in row:
                    break  # counted already

    async def _upsert(self, bucket: Bucket, entries: list[tuple[str, dict[str, int]]]) -> bool:
        total: dict[str, int] = {}
        for _, inc in entries:
            for name, value in inc.items():
                total[name] = total.get(name, 0) + value
        flt = {"_id": bucket.id, "$and": [{_park(i): {"$exists": False}} for i, _ in entries]}
        update = {"$inc": total, "$set": {_park(i): 1 for i, _ in entries},
                  "$setOnInsert": {"user_id": bucket.user_id, "day": bucket.day}}
        try:
            await self._col.update_one(flt, update, upsert=True)
            return True
        except DuplicateKeyError:
            return False

    async def repair(self, *, older_than: datetime) -> int:
        """Roll up entries left marked `unrolled` (a crash, a failed batch) written before `older_than`."""
        docs = await self._ledger.find({"unrolled": True}).limit(REPAIR_BATCH).to_list(None)
        ops = [op for op in (op_from_doc(d) for d in docs) if op.at < older_than]
        await self.roll(ops)
        return len(ops)

    async def rows(self, user_id: str, *, first: str, last: str) -> list[dict[str, Any]]:
        """The user's day documents for days first..last: one query on the (user_id, day) index."""
        flt = {"$and": [{"user_id": user_id}, {"day": {"$gte": first}}, {"day": {"$lte": last}}]}
        return await self._col.find(flt).to_list(None)

