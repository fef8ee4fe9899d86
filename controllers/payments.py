"""Payment endpoints (contract §6, §14): checkout, PayPal returns, mobile capture, history."""

from __future__ import annotations

from typing import Any

from quart import redirect

from controllers.schemas.payments import (
    CheckoutIn,
    ListQuery,
    ReturnQuery,
)
from middlewares.request_id import current_request_id
from services.credits.ports import Credits
from services.payments.model import Payment
from services.payments.service import PaymentService
from services.platform.clock import isoformat
from services.platform.principal import Principal


def payment_out(p: Payment) -> dict[str, Any]:
    """The public shape of a payment."""
    return {"id": p.id, "provider": p.provider, "pack": p.pack, "credits": p.credits, "amount": p.amount,
            "currency": p.currency,
            "status": p.status, "order_id": p.external_id, "created_at": isoformat(p.created_at),
            "completed_at": isoformat(p.completed_at)}


class PaymentsController:
    """HTTP ⇄ PaymentService."""

    def __init__(self, payments: PaymentService, credits: Credits) -> None:
        self._payments, self._credits = payments, credits

    async def checkout(self, principal: Principal, data: CheckoutIn):
        """201 with the checkout URL (PayPal: approve URL) of a new payment."""
        p = await self._payments.checkout(principal.require_user_id(), data.pack,
                                          request_id=current_request_id(), provider_name=data.provider)
        return {"payment_id": p.id, "provider": p.provider, "checkout_url": p.approve_url,
                "order_id": p.external_id, "approve_url": p.approve_url, "status": "CREATED"}, 201

    async def capture(self, principal: Principal, payment_id: str) -> dict[str, Any]:
        """Capture (mobile): COMPLETED with the credits added and the new credits object."""
        user_id = principal.require_user_id()
        payment = await self._payments.get_for_user(payment_id, user_id)
        payment = await self._payments.capture(payment, request_id=current_request_id())
        completed = payment.status in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")
        return {"payment_id": payment.id, "status": "COMPLETED" if completed else payment.status,
                "credits_added": payment.credits if completed else 0,
                "credits": await self._credits.summary(user_id, plan=principal.plan)}

    async def paypal_return(self, query: ReturnQuery):
        """303 to CHECKOUT_SUCCESS_URL (captured and credited) or CHECKOUT_CANCEL_URL."""
        target = await self._payments.return_redirect("paypal", query.token, request_id=current_request_id())
        return redirect(target, 303)

    async def paypal_cancel(self, query: ReturnQuery):
        """303 to CHECKOUT_CANCEL_URL, the payment marked cancelled."""
        return redirect(await self._payments.cancel_redirect("paypal", query.token), 303)

    async def history(self, principal: Principal, query: ListQuery) -> dict[str, Any]:
        """The caller's payments, newest first, paginated."""
        items = await self._payments.history(principal.require_user_id(), limit=query.limit + 1,
                                             cursor=query.cursor)
        page = items[: query.limit]
        return {"items": [payment_out(p) for p in page],
                "next_cursor": page[-1].id if len(items) > query.limit else None}
