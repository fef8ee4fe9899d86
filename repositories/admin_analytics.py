"""The reads behind the admin analytics (services/admin/analytics.py): the usage rollup by day (its
`day` index), settled payments captured or refunded in a period, users' plans and emails."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from repositories.documents import AwareDatabase
from services.admin.ports import PaidPayment
from services.credits.ports import RollupStore
from services.payments.model import SETTLED


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


class MongoAnalyticsRepository:
    def __init__(self, db: AsyncDatabase, rollup: RollupStore) -> None:
        self._db, self._rollup = AwareDatabase(db), rollup

    async def usage_days(self, *, first: str, last: str) -> list[dict[str, Any]]:
        return await self._rollup.days(first=first, last=last)

    async def payments(self, *, since: datetime, until: datetime) -> list[PaidPayment]:
        """Settled payments completed in the period, or refunded since `since` (a refund's `at`)."""
        rows = await self._db["payments"].find(
            {"status": {"$in": list(SETTLED)},
             "$or": [{"completed_at": {"$gte": since, "$lt": until}}, {"updated_at": {"$gte": since}}]},
            {"user_id": 1, "amount": 1, "currency": 1, "captured_amount": 1, "captured_currency": 1,
             "refunds": 1, "completed_at": 1},
        ).to_list()
        out = []
        for row in rows:
            completed = _when(row.get("completed_at"))
            if completed is None:
                continue
            refunds = tuple((_decimal(r.get("amount")), at) for r in row.get("refunds") or []
                            if (at := _when(r.get("at"))) is not None)
            out.append(PaidPayment(
                user_id=str(row.get("user_id")), completed_at=completed,
                amount=_decimal(row.get("captured_amount") or row.get("amount")),
                currency=str(row.get("captured_currency") or row.get("currency") or "USD"), refunds=refunds))
        return out

    async def plans(self, user_ids: list[str]) -> dict[str, str]:
        rows = await self._db["users"].find({"_id": {"$in": user_ids}}, {"plan": 1}).to_list()
        return {str(r["_id"]): str(r.get("plan") or "free") for r in rows}

    async def emails(self, user_ids: list[str]) -> dict[str, str]:
        rows = await self._db["users"].find({"_id": {"$in": user_ids}}, {"email": 1}).to_list()
        return {str(r["_id"]): str(r["email"]) for r in rows if r.get("email")}
