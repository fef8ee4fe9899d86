"""Gift codes in MongoDB; a code is claimed by one conditional update, so it is redeemed at most once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from pymongo import ReturnDocument

from repositories.credits import as_datetime
from repositories.documents import MuseDocument
from services.credits.gift_codes import GiftCode


class GiftCodeDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # the canonical code, e.g. "K7QX-M2PA-9WZD-HT4E"
    gid: str  # gft_…, time-ordered: list order and cursor
    tier: str | None = None
    credits: int | None = None
    expires_at: datetime | None = None
    created_at: datetime
    created_by: str | None = None
    redeemed_by: str | None = None
    redeemed_at: datetime | None = None
    credited: bool = False
    redeemed_ms: int | None = None  # epoch ms of redeemed_at, the form range queries can trust

    class Settings:
        name = "gift_codes"
        indexes = [
            [("gid", pymongo.DESCENDING)],
            [("credited", pymongo.ASCENDING), ("redeemed_ms", pymongo.ASCENDING)],
        ]


def _code(doc: dict[str, Any]) -> GiftCode:
    data = dict(doc)
    data["code"] = data.pop("_id")
    if data.get("redeemed_at") is not None:
        data["redeemed_at"] = as_datetime(data["redeemed_at"])
    return GiftCode(**{k: v for k, v in data.items() if k in GiftCode.model_fields})


class BeanieGiftCodeRepository:
    """Gift codes: creation, atomic claim, listing."""

    @property
    def _col(self):
        return GiftCodeDocument.get_pymongo_collection()

    async def create_many(self, codes: list[GiftCode]) -> None:
        """Store new codes."""
        docs = []
        for code in codes:
            doc = code.model_dump()
            doc["_id"] = doc.pop("code")
            docs.append(doc)
        await self._col.insert_many(docs)

    async def get(self, code: str) -> GiftCode | None:
        """The code, or None."""
        doc = await self._col.find_one({"_id": code})
        return _code(doc) if doc else None

    async def claim(self, code: GiftCode, *, user_id: str, now: datetime) -> GiftCode | None:
        """Mark an unredeemed, unexpired code as redeemed by `user_id`; None if someone was first."""
        flt: dict[str, Any] = {"_id": code.code, "redeemed_by": None}
        flt["expires_at"] = {"$gt": now} if code.expires_at else None
        doc = await self._col.find_one_and_update(
            flt, {"$set": {"redeemed_by": user_id, "redeemed_at": now,
                           "redeemed_ms": int(now.timestamp() * 1000)}}, return_document=ReturnDocument.AFTER)
        return _code(doc) if doc else None

    async def mark_credited(self, code: str) -> None:
        """The redemption's credits are in the ledger."""
        await self._col.update_one({"_id": code}, {"$set": {"credited": True}})

    async def uncredited(self, *, redeemed_before: datetime, limit: int = 500) -> list[GiftCode]:
        """Codes claimed before a time whose credits were never recorded (a crash in between)."""
        docs = await self._col.find(
            {"credited": False, "redeemed_ms": {"$lt": int(redeemed_before.timestamp() * 1000)}}
        ).limit(limit).to_list()
        return [_code(d) for d in docs]

    async def list(self, *, limit: int, cursor: str | None = None) -> list[GiftCode]:
        """Codes, newest first, older than `cursor` (a gid)."""
        flt: dict[str, Any] = {"gid": {"$lt": cursor}} if cursor else {}
        docs = await self._col.find(flt).sort("gid", pymongo.DESCENDING).limit(limit).to_list()
        return [_code(d) for d in docs]
