"""Read-only aggregations over other features' collections (by name) for the admin console.

Every query is bounded in time (`since`) or by user and uses an index of the
owning feature: credit_ledger (kind, at) and (user_id, at), images
(user_id, _id), conversations (owner_id, _id), payments, users.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pymongo
from pymongo.asynchronous.database import AsyncDatabase

from repositories.documents import AwareDatabase

USERS, LEDGER, IMAGES, VIDEOS = "users", "credit_ledger", "images", "videos"
CONVERSATIONS, MESSAGES, PAYMENTS = "conversations", "messages", "payments"
SETTLED = ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")
IMAGE_ITEMS = ("image", "image_edit", "image_describe")


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


class MongoAdminStatsRepository:
    """Aggregations for `GET /api/v1/admin/stats` and the user detail page."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._db = AwareDatabase(db)  # datetimes read back are aware, as through the documents

    async def users(self, *, since: datetime) -> dict[str, int]:
        """Total users and those created since `since`."""
        col = self._db[USERS]
        return {"total": await col.count_documents({}),
                "new": await col.count_documents({"created_at": {"$gte": since}})}

    async def active_user_ids(self, *, since: datetime) -> set[str]:
        """Users who were charged, started an image or chatted since `since`."""
        charged = await self._db[LEDGER].distinct("user_id", {"kind": "charge", "at": {"$gte": since}})
        imaging = await self._db[IMAGES].distinct("user_id", {"created_at": {"$gte": since}})
        imaging += await self._db[VIDEOS].distinct("user_id", {"created_at": {"$gte": since}})
        chatting = await self._db[CONVERSATIONS].distinct("owner_id", {"updated_at": {"$gte": since}})
        return {*charged, *imaging, *chatting}

    async def ledger_totals(self, *, kind: str, since: datetime, item: str | None = None) -> dict[str, int]:
        """Entries of one kind (charges optionally of one item) since `since`: count and sum of deltas."""
        # `$and` of single conditions: nx-27017 (the embedded dev/test server) ignores a date range in
        # a plain multi-field `$match` before `$group`; the `$and` form is evaluated correctly there and
        # is the same query (and index use) on MongoDB.
        conditions: list[dict[str, Any]] = [{"kind": kind}, {"at": {"$gte": since}}]
        if item is not None:
            conditions.append({"meta.item": item})
        match = {"$and": conditions}
        cursor = await self._db[LEDGER].aggregate([
            {"$match": match},
            {"$group": {"_id": None, "n": {"$sum": 1}, "delta": {"$sum": "$delta"}}},
        ])
        rows = await cursor.to_list()
        return {"n": int(rows[0]["n"]), "delta": int(rows[0]["delta"] or 0)} if rows else {"n": 0, "delta": 0}

    async def images(self, *, since: datetime, collection: str = IMAGES) -> dict[str, int]:
        """Image (or, with `collection="videos"`, video) jobs created since `since`, and how many failed."""
        col = self._db[collection]
        return {"created": await col.count_documents({"created_at": {"$gte": since}}),
                "failed": await col.count_documents({"created_at": {"$gte": since}, "status": "failed"})}

    async def revenue(self, *, since: datetime) -> dict[str, dict[str, Any]]:
        """Settled payments completed since `since`, per currency: gross, refunded, net, count."""
        rows = await self._db[PAYMENTS].find(
            {"status": {"$in": list(SETTLED)}, "completed_at": {"$gte": since}},
            {"amount": 1, "currency": 1, "captured_amount": 1, "captured_currency": 1, "refunds": 1},
        ).to_list()
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            currency = row.get("captured_currency") or row.get("currency") or "USD"
            slot = out.setdefault(currency, {"gross": Decimal(0), "refunded": Decimal(0), "payments": 0})
            slot["gross"] += _decimal(row.get("captured_amount") or row.get("amount"))
            slot["refunded"] += sum((_decimal(r.get("amount")) for r in row.get("refunds") or []), Decimal(0))
            slot["payments"] += 1
        return out

    async def recent_ledger(self, user_id: str, *, limit: int) -> list[dict[str, Any]]:
        """A user's newest ledger entries."""
        rows = await self._db[LEDGER].find({"user_id": user_id}).sort("at", pymongo.DESCENDING) \
            .limit(limit).to_list()
        return [{**row, "id": row.pop("_id")} for row in rows]

    async def recent_generations(self, user_id: str, *, limit: int) -> list[dict[str, Any]]:
        """A user's newest image jobs and assistant chat messages, newest first."""
        images = await self._db[IMAGES].find(
            {"user_id": user_id},
            {"status": 1, "kind": 1, "prompt": 1, "provider": 1, "model": 1, "credits_charged": 1,
             "created_at": 1, "request_id": 1},
        ).sort("_id", pymongo.DESCENDING).limit(limit).to_list()
        conversations = await self._db[CONVERSATIONS].find({"owner_id": user_id}, {"_id": 1}) \
            .sort("_id", pymongo.DESCENDING).limit(limit).to_list()
        messages = await self._db[MESSAGES].find(
            {"conversation_id": {"$in": [c["_id"] for c in conversations]}, "role": "assistant"},
            {"conversation_id": 1, "provider": 1, "model": 1, "cached": 1, "credits_charged": 1,
             "created_at": 1, "request_id": 1},
        ).sort("_id", pymongo.DESCENDING).limit(limit).to_list() if conversations else []
        items = [{"type": "image", "id": r.pop("_id"), **r} for r in images]
        items += [{"type": "chat", "id": r.pop("_id"), **r} for r in messages]
        items.sort(key=lambda item: item["id"][4:], reverse=True)  # ids are time-ordered after the prefix
        return items[:limit]

    async def refunds(self, *, since: datetime, reason_prefix: str) -> dict[str, int]:
        """Refund entries since `since`: all of them, and those whose reason starts with the prefix."""
        col = self._db[LEDGER]
        base = {"kind": "refund", "at": {"$gte": since}}
        matching = {**base, "reason": {"$regex": f"^{reason_prefix}"}}
        return {"total": await col.count_documents(base), "matching": await col.count_documents(matching)}
