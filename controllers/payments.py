"""Payment endpoints (contract §6): checkout, PayPal returns, mobile capture, history."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from quart import redirect

from controllers.schemas.common import CreditsOut
from middlewares.request_id import current_request_id
from services.clock import isoformat
from services.payments import PaymentService
from services.payments_model import Payment
from services.ports.credits import Credits
from services.principal import Principal


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


def payment_out(p: Payment) -> dict[str, Any]:
    """The public shape of a payment."""
    return {"id": p.id, "pack": p.pack, "credits": p.credits, "amount": p.amount, "currency": p.currency,
            "status": p.status, "order_id": p.external_id, "created_at": isoformat(p.created_at),
            "completed_at": isoformat(p.completed_at)}


class PaymentsController:
    """HTTP ⇄ PaymentService."""

    def __init__(self, payments: PaymentService, credits: Credits) -> None:
        self._payments, self._credits = payments, credits

    async def checkout(self, principal: Principal, data: CheckoutIn):
        """201 with the PayPal approve URL of a new payment."""
        p = await self._payments.checkout(principal.user_id or "", data.pack, request_id=current_request_id())
        return {"payment_id": p.id, "order_id": p.external_id, "approve_url": p.approve_url,
                "status": "CREATED"}, 201

    async def capture(self, principal: Principal, payment_id: str) -> dict[str, Any]:
        """Capture (mobile): COMPLETED with the credits added and the new credits object."""
        user_id = principal.user_id or ""
        payment = await self._payments.get_for_user(payment_id, user_id)
        payment = await self._payments.capture(payment, request_id=current_request_id())
        completed = payment.status in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")
        return {"payment_id": payment.id, "status": "COMPLETED" if completed else payment.status,
                "credits_added": payment.credits if completed else 0,
                "credits": await self._credits.summary(user_id, plan=principal.plan)}

    async def paypal_return(self, query: ReturnQuery):
        """303 to CHECKOUT_SUCCESS_URL (captured and credited) or CHECKOUT_CANCEL_URL."""
        target = await self._payments.return_redirect(query.token, request_id=current_request_id())
        return redirect(target, 303)

    async def paypal_cancel(self, query: ReturnQuery):
        """303 to CHECKOUT_CANCEL_URL, the payment marked cancelled."""
        return redirect(await self._payments.cancel_redirect(query.token), 303)

    async def history(self, principal: Principal, query: ListQuery) -> dict[str, Any]:
        """The caller's payments, newest first, paginated."""
        items = await self._payments.history(principal.user_id or "", limit=query.limit + 1,
                                             cursor=query.cursor)
        page = items[: query.limit]
        return {"items": [payment_out(p) for p in page],
                "next_cursor": page[-1].id if len(items) > query.limit else None}
