"""What each API key spent, per UTC month and day (`api_key_spend`): the atomic spend caps.

One document per key and month, `{_id: "<key id>:<YYYY-MM>", total, dDD: n}` (a day is a top-level
field `d01`…`d31`: nx-27017 upserts an `$inc` of a dotted path as a literal field name). A
reservation is one conditional upsert: its filter carries both caps (`total <= monthly - n`,
`dDD` absent or `<= daily - n`) and its update adds `n` to both counters, so concurrent
reservations are serialised by the server and never pass a cap together. When the document
exists and a guard fails, the upsert's insert collides with the `_id` (E11000): that is the
refusal; a first reservation racing another on a new month is simply retried.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import pymongo
from pymongo.errors import DuplicateKeyError

from repositories.documents import MuseDocument
from services.platform.key_limits import utc_month


class KeySpendDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # "<key id>:<YYYY-MM>"
    key_id: str
    month: str
    total: int = 0

    class Settings:
        name = "api_key_spend"
        indexes = [pymongo.IndexModel([("key_id", pymongo.ASCENDING), ("month", pymongo.ASCENDING)],
                                      name="key_month")]


def _refused(doc: dict[str, Any] | None, amount: int, day: str, daily_cap: int | None,
             monthly_cap: int | None) -> Literal["day", "month"] | None:
    doc = doc or {}
    if monthly_cap is not None and int(doc.get("total", 0)) + amount > monthly_cap:
        return "month"
    if daily_cap is not None and int(doc.get(day, 0)) + amount > daily_cap:
        return "day"
    return None


class MongoKeySpendRepository:
    """Per-key spend counters with atomic cap reservations."""

    @property
    def _col(self):
        return KeySpendDocument.get_pymongo_collection()

    async def reserve(self, key_id: str, amount: int, *, at: datetime, daily_cap: int | None,
                      monthly_cap: int | None) -> Literal["day", "month"] | None:
        """Add `amount` to the key's day and month unless that passes a cap: None, or the period refused."""
        day, month = f"d{at:%d}", utc_month(at)
        if (early := _refused(None, amount, day, daily_cap, monthly_cap)) is not None:
            return early
        guards: list[dict[str, Any]] = []
        if monthly_cap is not None:
            guards.append({"total": {"$lte": monthly_cap - amount}})
        if daily_cap is not None:
            guards.append({"$or": [{day: {"$exists": False}}, {day: {"$lte": daily_cap - amount}}]})
        doc_id = f"{key_id}:{month}"
        flt: dict[str, Any] = {"_id": doc_id, **({"$and": guards} if guards else {})}
        update = {"$inc": {"total": amount, day: amount},
                  "$setOnInsert": {"key_id": key_id, "month": month}}
        for _ in range(5):
            try:
                await self._col.update_one(flt, update, upsert=True)
                return None
            except DuplicateKeyError:
                found = await self._col.find_one({"_id": doc_id})
                refused = _refused(found, amount, day, daily_cap, monthly_cap)
                if found is not None and refused is not None:
                    return refused
                # a concurrent first reservation of the month created it, or spend was released
                # in between: the guarded update decides again
        return _refused(await self._col.find_one({"_id": doc_id}), amount, day, daily_cap, monthly_cap) \
            or "month"

    async def release(self, key_id: str, amount: int, *, at: datetime) -> None:
        """Give back `amount` reserved on the day and month of `at` (a refunded charge)."""
        await self._col.update_one({"_id": f"{key_id}:{utc_month(at)}"},
                                   {"$inc": {"total": -amount, f"d{at:%d}": -amount}})

    async def spent(self, key_ids: list[str], *, at: datetime) -> dict[str, tuple[int, int]]:
        """(spent on the UTC day of `at`, spent in its month) of each key."""
        month, day = utc_month(at), f"d{at:%d}"
        rows = await self._col.find({"_id": {"$in": [f"{k}:{month}" for k in key_ids]}}).to_list(None)
        found = {row["key_id"]: (int(row.get(day, 0)), int(row.get("total", 0)))
                 for row in rows}
        return {k: found.get(k, (0, 0)) for k in key_ids}
