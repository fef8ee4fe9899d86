"""The credit ledger: one immutable entry per account change, unique by op id and by op key."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import pymongo
from pydantic import Field
from pymongo.errors import BulkWriteError, DuplicateKeyError

from repositories.credits import op_from_doc, op_to_doc
from repositories.documents import MuseDocument
from services.credits.model import Op

Inserted = Literal["inserted", "exists", "duplicate_key"]


class LedgerEntryDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # led_…, the op id
    key: str  # unique: the op id for charges, "<kind>:<ref>" for once-per-ref ops
    user_id: str
    kind: str
    at: datetime
    delta: int
    sources: dict[str, int] = Field(default_factory=dict)
    ref: str | None = None
    request_id: str | None = None
    reason: str | None = None
    admin_id: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    balance_after: int | None = None
    repaired: bool = False

    class Settings:
        name = "credit_ledger"
        indexes = [
            pymongo.IndexModel([("key", pymongo.ASCENDING)], unique=True, name="ledger_key_unique"),
            [("user_id", pymongo.ASCENDING), ("at", pymongo.DESCENDING)],
            [("kind", pymongo.ASCENDING), ("at", pymongo.DESCENDING)],
            pymongo.IndexModel([("unrolled", pymongo.ASCENDING)], name="unrolled", sparse=True),
        ]


def _doc(op: Op) -> dict[str, Any]:
    """The entry's document; a charge or refund is marked `unrolled` until the usage rollup counted it
    (repositories/usage.py)."""
    doc = op_to_doc(op)
    if op.kind in ("charge", "refund"):
        doc["unrolled"] = True
    return doc


class BeanieLedgerRepository:
    """Ledger entries in MongoDB."""

    @property
    def _col(self):
        return LedgerEntryDocument.get_pymongo_collection()

    async def insert(self, op: Op) -> Inserted:
        """Write the entry of `op`: 'inserted', 'exists' (same id) or 'duplicate_key' (key taken)."""
        try:
            await self._col.insert_one(_doc(op))
            return "inserted"
        except DuplicateKeyError:
            same = await self._col.find_one({"_id": op.id}, {"_id": 1})
            return "exists" if same else "duplicate_key"

    async def insert_many(self, ops: list[Op]) -> list[Inserted]:
        """`insert` of several ops in one unordered write; an outcome per op, in order."""
        if len(ops) == 1:
            return [await self.insert(ops[0])]
        try:
            await self._col.insert_many([_doc(op) for op in ops], ordered=False)
            return ["inserted"] * len(ops)
        except BulkWriteError as exc:
            errors = {e["index"]: e for e in exc.details.get("writeErrors", [])}
            if any(e.get("code") != 11000 for e in errors.values()):
                raise
            outcomes: list[Inserted] = []
            for index, op in enumerate(ops):
                if index not in errors:
                    outcomes.append("inserted")
                    continue
                same = await self._col.find_one({"_id": op.id}, {"_id": 1})
                outcomes.append("exists" if same else "duplicate_key")
            return outcomes

    async def get(self, entry_id: str) -> Op | None:
        """The entry with this id."""
        doc = await self._col.find_one({"_id": entry_id})
        return op_from_doc(doc) if doc else None

    async def get_by_key(self, key: str) -> Op | None:
        """The entry with this op key."""
        doc = await self._col.find_one({"key": key})
        return op_from_doc(doc) if doc else None

    async def list(self, user_id: str, *, limit: int, cursor: str | None = None) -> list[Op]:
        """Entries of a user, newest first, older than `cursor` (an entry id)."""
        flt: dict[str, Any] = {"user_id": user_id}
        if cursor:
            flt["_id"] = {"$lt": cursor}
        docs = await self._col.find(flt).sort("_id", pymongo.DESCENDING).limit(limit).to_list()
        return [op_from_doc(d) for d in docs]

    async def balance_sum(self, user_id: str, *, up_to_id: str | None = None) -> int:
        """Sum of the balance deltas of a user's entries (up to an entry id, inclusive)."""
        match: dict[str, Any] = {"user_id": user_id}
        if up_to_id:
            match["_id"] = {"$lte": up_to_id}
        return await self._sum(match, "$sources.balance")

    async def _sum(self, match: dict[str, Any], expr: str) -> int:
        # An explicit $and: nx-27017 ignores range conditions of a multi-field $match before
        # $group (same meaning on MongoDB).
        conditions = {"$and": [{key: value} for key, value in match.items()]}
        cursor = await self._col.aggregate(
            [{"$match": conditions}, {"$group": {"_id": None, "t": {"$sum": expr}}}])
        rows = await cursor.to_list()
        return int(rows[0]["t"] or 0) if rows else 0
