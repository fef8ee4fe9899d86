"""Payments, subscriptions and flagged accounts in MongoDB.

Every state change is a single conditional `find_one_and_update`, so concurrent
returns, captures and webhooks agree on one outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from pydantic import Field
from pymongo import ReturnDocument

from repositories.documents import MuseDocument
from services.payments.model import LIVE_SUBSCRIPTION, Payment, Refund, Subscription
from services.platform.clock import utcnow
from services.platform.ids import new_id


class PaymentDocument(MuseDocument):
    id: str = Field(default_factory=lambda: new_id("pay"))  # type: ignore[assignment]  # our ids are strings
    user_id: str
    provider: str = "paypal"
    pack: str
    credits: int
    amount: str
    currency: str
    status: str = "CREATED"
    external_id: str | None = None  # the processor's checkout id (PayPal: order id)
    approve_url: str | None = None
    external_capture_id: str | None = None
    captured_amount: str | None = None
    captured_currency: str | None = None
    credited: bool = False
    flag_reason: str | None = None
    refunds: list[dict[str, Any]] = Field(default_factory=list)
    refund_count: int = 0  # version of `refunds` for optimistic updates
    reversed_credits: int = 0
    request_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    reconciled_at: datetime | None = None  # last re-check by the reconcile job

    class Settings:
        name = "payments"
        indexes = [
            pymongo.IndexModel([("user_id", pymongo.ASCENDING)], name="user"),
            pymongo.IndexModel([("status", pymongo.ASCENDING), ("reconciled_at", pymongo.ASCENDING)],
                               name="open_reconcile"),
            pymongo.IndexModel([("provider", pymongo.ASCENDING), ("external_id", pymongo.ASCENDING)],
                               name="external_id"),
            pymongo.IndexModel([("provider", pymongo.ASCENDING), ("external_capture_id", pymongo.ASCENDING)],
                               name="external_capture_id"),
        ]


class SubscriptionDocument(MuseDocument):
    id: str = Field(default_factory=lambda: new_id("sub"))  # type: ignore[assignment]  # our ids are strings
    user_id: str
    plan: str
    provider: str = "paypal"
    external_plan_id: str
    external_id: str | None = None
    status: str = "APPROVAL_PENDING"
    approve_url: str | None = None
    current_period_end: datetime | None = None
    last_payment_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    cancelled_at: datetime | None = None

    class Settings:
        name = "subscriptions"
        indexes = [
            pymongo.IndexModel([("user_id", pymongo.ASCENDING)], name="user"),
            pymongo.IndexModel([("provider", pymongo.ASCENDING), ("external_id", pymongo.ASCENDING)],
                               name="external_id"),
        ]


class AccountFlagDocument(MuseDocument):
    """An account needing review (e.g. a refund left its balance negative)."""

    id: str = Field(default_factory=lambda: new_id("flg"))  # type: ignore[assignment]  # our ids are strings
    user_id: str
    reason: str
    ref: str
    balance: int
    at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "account_flags"
        indexes = [pymongo.IndexModel([("user_id", pymongo.ASCENDING)], name="user")]


def _payment(raw: dict[str, Any] | None) -> Payment | None:
    if raw is None:
        return None
    data = dict(raw)
    data["id"] = data.pop("_id")
    return Payment.model_validate(data)


def _subscription(raw: dict[str, Any] | None) -> Subscription | None:
    if raw is None:
        return None
    data = dict(raw)
    data["id"] = data.pop("_id")
    return Subscription.model_validate(data)


class BeaniePaymentRepository:
    """The `payments` collection (and `account_flags`)."""

    @property
    def _col(self):
        return PaymentDocument.get_pymongo_collection()

    async def create(self, payment: Payment) -> Payment:
        """Insert a new payment."""
        data = payment.model_dump()
        data["_id"] = data.pop("id")
        await self._col.insert_one(data)
        return payment

    async def get(self, payment_id: str) -> Payment | None:
        """The payment with this id, or None."""
        return _payment(await self._col.find_one({"_id": payment_id}))

    async def get_by_external_id(self, provider: str, external_id: str) -> Payment | None:
        """The payment of a processor's checkout id, or None."""
        return _payment(await self._col.find_one({"provider": provider, "external_id": external_id}))

    async def get_by_external_capture(self, provider: str, capture_id: str) -> Payment | None:
        """The payment of a processor's capture id, or None."""
        return _payment(await self._col.find_one({"provider": provider, "external_capture_id": capture_id}))

    async def update(self, payment_id: str, fields: dict[str, Any], *,
                     only_if_status: tuple[str, ...] | None = None) -> Payment | None:
        """Set `fields`; with `only_if_status`, only from those statuses (None when it did not apply)."""
        flt: dict[str, Any] = {"_id": payment_id}
        if only_if_status is not None:
            flt["status"] = {"$in": list(only_if_status)}
        raw = await self._col.find_one_and_update(
            flt, {"$set": {**fields, "updated_at": utcnow()}}, return_document=ReturnDocument.AFTER)
        return _payment(raw)

    async def mark_credited(self, payment_id: str) -> None:
        """Record that the ledger credited this payment."""
        await self._col.update_one({"_id": payment_id}, {"$set": {"credited": True, "updated_at": utcnow()}})

    async def add_refund(self, payment: Payment, refund: Refund, *, status: str) -> Payment | None:
        """Append a refund if `refunds` is still as read in `payment`; None when someone changed it first."""
        refunds = [r.model_dump() for r in [*payment.refunds, refund]]
        raw = await self._col.find_one_and_update(
            {"_id": payment.id, "refund_count": len(payment.refunds)},
            {"$set": {"refunds": refunds, "status": status, "updated_at": utcnow()},
             "$inc": {"refund_count": 1, "reversed_credits": refund.credits}},
            return_document=ReturnDocument.AFTER)
        return _payment(raw)

    async def list_for_user(self, user_id: str, *, limit: int, cursor: str | None) -> list[Payment]:
        """The user's payments, newest first, older than `cursor`."""
        flt: dict[str, Any] = {"user_id": user_id}
        if cursor:
            flt["_id"] = {"$lt": cursor}
        rows = await self._col.find(flt).sort("_id", pymongo.DESCENDING).limit(limit).to_list(limit)
        return [p for p in map(_payment, rows) if p is not None]

    async def list_open(self, *, statuses: tuple[str, ...], created_before: datetime,
                        limit: int) -> list[Payment]:
        """Payments in `statuses` created before the cutoff, least recently re-checked first."""
        rows = await self._col.find(
            {"status": {"$in": list(statuses)}, "created_at": {"$lt": created_before}},
        ).sort([("reconciled_at", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]).limit(limit).to_list(limit)
        return [p for p in map(_payment, rows) if p is not None]

    async def mark_reconciled(self, payment_id: str) -> None:
        """Record that the reconcile job looked at this payment (so the next batch takes others first)."""
        await self._col.update_one({"_id": payment_id}, {"$set": {"reconciled_at": utcnow()}})

    async def flag_account(self, user_id: str, *, reason: str, balance: int, ref: str) -> None:
        """Record that an account needs review (once per `ref`)."""
        await AccountFlagDocument.get_pymongo_collection().update_one(
            {"user_id": user_id, "ref": ref},
            {"$setOnInsert": {"_id": new_id("flg"), "reason": reason, "balance": balance, "at": utcnow()}},
            upsert=True)

    async def flags_for(self, user_id: str) -> list[dict[str, Any]]:
        """The review flags of a user."""
        return await AccountFlagDocument.get_pymongo_collection().find({"user_id": user_id}).to_list(100)


class BeanieSubscriptionRepository:
    """The `subscriptions` collection."""

    @property
    def _col(self):
        return SubscriptionDocument.get_pymongo_collection()

    async def create(self, sub: Subscription) -> Subscription:
        """Insert a new subscription record."""
        data = sub.model_dump()
        data["_id"] = data.pop("id")
        await self._col.insert_one(data)
        return sub

    async def get(self, sub_id: str) -> Subscription | None:
        """The subscription with this id, or None."""
        return _subscription(await self._col.find_one({"_id": sub_id}))

    async def get_by_external_id(self, provider: str, external_id: str) -> Subscription | None:
        """The subscription of a processor's subscription id, or None."""
        return _subscription(await self._col.find_one({"provider": provider, "external_id": external_id}))

    async def current_for_user(self, user_id: str) -> Subscription | None:
        """The user's newest active subscription, else the newest pending or suspended one."""
        newest = [("_id", pymongo.DESCENDING)]
        raw = await self._col.find_one({"user_id": user_id, "status": "ACTIVE"}, sort=newest)
        if raw is None:
            raw = await self._col.find_one({"user_id": user_id, "status": {"$in": list(LIVE_SUBSCRIPTION)}},
                                           sort=newest)
        return _subscription(raw)

    async def update(self, sub_id: str, fields: dict[str, Any]) -> Subscription | None:
        """Set `fields` on a subscription."""
        raw = await self._col.find_one_and_update(
            {"_id": sub_id}, {"$set": {**fields, "updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER)
        return _subscription(raw)

    async def list_live(self, *, limit: int, cursor: str | None) -> list[Subscription]:
        """Live subscriptions that have a processor id, by id, after `cursor` (the reconcile's pages)."""
        flt: dict[str, Any] = {"status": {"$in": list(LIVE_SUBSCRIPTION)}, "external_id": {"$ne": None}}
        if cursor:
            flt["_id"] = {"$gt": cursor}
        raws = await self._col.find(flt).sort("_id", pymongo.ASCENDING).limit(limit).to_list(limit)
        return [sub for sub in (_subscription(raw) for raw in raws) if sub is not None]

    async def list_for_user(self, user_id: str) -> list[Subscription]:
        """Every subscription of one user, oldest first (the data export)."""
        raws = await self._col.find({"user_id": user_id}).sort("_id", pymongo.ASCENDING).to_list(None)
        return [sub for sub in (_subscription(raw) for raw in raws) if sub is not None]

    async def list_live_for_user(self, user_id: str) -> list[Subscription]:
        """Every live subscription of one user (pending checkouts included), oldest first."""
        flt: dict[str, Any] = {"user_id": user_id, "status": {"$in": list(LIVE_SUBSCRIPTION)}}
        raws = await self._col.find(flt).sort("_id", pymongo.ASCENDING).to_list(None)
        return [sub for sub in (_subscription(raw) for raw in raws) if sub is not None]

    async def count_active(self, user_id: str, *, excluding: str | None = None) -> int:
        """How many ACTIVE subscriptions the user has (other than `excluding`)."""
        flt: dict[str, Any] = {"user_id": user_id, "status": "ACTIVE"}
        if excluding:
            flt["_id"] = {"$ne": excluding}
        return await self._col.count_documents(flt)
