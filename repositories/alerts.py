"""Budget alerts over MongoDB (services/admin/alerts.py): one document per owner (`user:<id>` or
`service`) with its threshold and the last period noticed, and one per UTC day with the service's
provider cost. The once-per-period claim is one conditional update of the owner's document."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from repositories.documents import MuseDocument
from services.platform.clock import utcnow


class BudgetAlertDocument(MuseDocument):
    """An owner's threshold (`user:<id>`: credits a month; `service`: USD a day), or a day's
    service provider cost (`cost:<day>`, `micro`)."""

    id: str  # type: ignore[assignment]

    class Settings:
        name = "budget_alerts"


class MongoAlertStore:
    @property
    def _col(self):
        return BudgetAlertDocument.get_pymongo_collection()

    async def get(self, owner: str) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": owner})

    async def thresholds(self, owners: list[str]) -> dict[str, float]:
        rows = await self._col.find({"_id": {"$in": owners}, "threshold": {"$ne": None}},
                                    {"threshold": 1}).to_list(None)
        return {str(r["_id"]): float(r["threshold"]) for r in rows if r.get("threshold") is not None}

    async def set(self, owner: str, threshold: float | None, *, by: str) -> None:
        await self._col.update_one({"_id": owner}, {"$set": {"threshold": threshold, "by": by, "notified": "",
                                                             "updated_at": utcnow()}}, upsert=True)

    async def claim(self, owner: str, period: str) -> bool:
        result = await self._col.update_one(
            # `$nin`, not `$ne`: nx-27017's updates do not match `$ne` on a missing field
            {"_id": owner, "threshold": {"$ne": None}, "notified": {"$nin": [period]}},
            {"$set": {"notified": period, "notified_at": utcnow()}})
        return result.modified_count == 1

    async def add_cost(self, day: str, micro_usd: int) -> int:
        doc = await self._col.find_one_and_update({"_id": f"cost:{day}"}, {"$inc": {"micro": micro_usd}},
                                                  upsert=True, return_document=ReturnDocument.AFTER)
        return int((doc or {}).get("micro", 0))

    async def cost(self, day: str) -> int:
        doc = await self._col.find_one({"_id": f"cost:{day}"})
        return int((doc or {}).get("micro", 0))
