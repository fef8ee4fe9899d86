"""Request and response models of the payments endpoints (used by controllers/payments.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from controllers.schemas.common import CreditsOut


class CheckoutIn(BaseModel):
    pack: str = Field(min_length=1, max_length=64, examples=["credits_500"],
                      json_schema_extra={"x-muse-choices": "credit_packs"})


class CheckoutOut(BaseModel):
    payment_id: str
    order_id: str | None
    approve_url: str | None
    status: str


class CaptureOut(BaseModel):
    payment_id: str
    status: str
    credits_added: int
    credits: CreditsOut | None = None


class ReturnQuery(BaseModel):
    token: str | None = None
    PayerID: str | None = None  # noqa: N815 (PayPal's name)


class PaymentOut(BaseModel):
    id: str
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


class ListQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None
