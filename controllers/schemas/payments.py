"""Request and response models of the payments endpoints (used by controllers/payments.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from controllers.schemas.base import CURSOR_MAX, RequestBody
from controllers.schemas.common import CreditsOut

# The processors Muse has adapters for; which are enabled is PAYMENT_PROVIDERS (GET /api/v1/plans).
ProviderName = Literal["paypal", "stripe"]


class CheckoutIn(RequestBody):
    pack: str = Field(min_length=1, max_length=64, examples=["credits_500"],
                      json_schema_extra={"x-muse-choices": "credit_packs"})
    provider: ProviderName | None = Field(default=None, description="Default: the first enabled processor.")


class CheckoutOut(BaseModel):
    payment_id: str
    provider: str
    checkout_url: str | None
    order_id: str | None
    approve_url: str | None
    status: str


class CaptureOut(BaseModel):
    payment_id: str
    status: str
    credits_added: int
    credits: CreditsOut | None = None


class ReturnQuery(BaseModel):
    token: str | None = Field(default=None, max_length=64)  # PayPal's order id
    PayerID: str | None = Field(default=None, max_length=64)  # noqa: N815 (PayPal's name)


class PaymentOut(BaseModel):
    id: str
    provider: str
    pack: str
    credits: int
    amount: str
    currency: str
    status: str
    order_id: str | None = None
    created_at: str
    completed_at: str | None = None


class PaymentListOut(BaseModel):
    items: list[PaymentOut]
    next_cursor: str | None = None


class StripeReturnQuery(BaseModel):
    session_id: str | None = Field(default=None, max_length=255)
    payment_id: str | None = Field(default=None, max_length=64)


class PortalOut(BaseModel):
    url: str


class ListQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX)
