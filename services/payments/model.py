"""Payment and subscription domain types and the storage ports of the payments feature."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, Field

from services.platform.errors import AppError, Conflict

# Payment statuses. CREATED: order made, buyer not back yet; PENDING: PayPal holds the
# capture (e.g. eCheck); COMPLETED: captured and credited; FLAGGED: captured amount or
# currency differs from the pack (never credited, needs a human); CANCELLED: the buyer
# cancelled; FAILED: PayPal refused; DENIED: PayPal denied/declined the capture (final,
# never credited); EXPIRED: the order was voided or never approved in time;
# (PARTIALLY_)REFUNDED: money went back.
CAPTURABLE = ("CREATED", "CANCELLED", "FAILED", "PENDING", "EXPIRED")
SETTLED = ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")
# Open payments the reconcile job re-checks at PayPal (APPROVED is PayPal's word, kept for safety).
OPEN = ("CREATED", "APPROVED", "PENDING")
# Capture statuses meaning PayPal took no money.
DENIED_CAPTURE = ("DECLINED", "DENIED", "FAILED")
# Subscription statuses (PayPal's): APPROVAL_PENDING, ACTIVE, SUSPENDED, CANCELLED, EXPIRED.
LIVE_SUBSCRIPTION = ("APPROVAL_PENDING", "APPROVED", "ACTIVE", "SUSPENDED")


class PaymentFlagged(Conflict):
    """The captured amount or currency differs from the pack: not credited, left for review."""

    code, title = "payment_flagged", "Payment flagged"


class PaymentDeclined(AppError):
    """PayPal denied or declined the capture: the payment is DENIED and nothing is credited."""

    code, title = "payment_declined", "Payment declined"


class Refund(BaseModel):
    id: str
    amount: str
    currency: str
    credits: int
    at: datetime


class Payment(BaseModel):
    """One credit-pack purchase through a payment processor (`provider`; its ids are `external_*`)."""

    id: str
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
    refunds: list[Refund] = Field(default_factory=list)
    refund_count: int = 0
    reversed_credits: int = 0
    request_id: str | None = None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    reconciled_at: datetime | None = None


class Subscription(BaseModel):
    """A user's subscription to a plan at a payment processor (`provider`; its ids are `external_*`)."""

    id: str
    user_id: str
    plan: str
    provider: str = "paypal"
    external_plan_id: str
    external_id: str | None = None
    status: str = "APPROVAL_PENDING"
    approve_url: str | None = None
    current_period_end: datetime | None = None
    last_payment_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None = None


def same_money(amount: str | None, currency: str | None, *, expected: str, expected_currency: str) -> bool:
    """Whether a reported amount equals the expected one (decimal compare, same currency)."""
    try:
        same_currency = (currency or "").upper() == expected_currency.upper()
        return same_currency and Decimal(amount or "x") == Decimal(expected)
    except InvalidOperation:
        return False
