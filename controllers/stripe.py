"""Stripe endpoints (contract §14): webhook, checkout return/cancel, billing portal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quart import redirect

from controllers.schemas.payments import StripeReturnQuery
from middlewares.request_id import current_request_id
from services.payments.service import PaymentService
from services.payments.webhooks import PaymentWebhookService
from services.platform.principal import Principal


class StripeController:
    """HTTP ⇄ the Stripe webhook service and the provider-neutral payment service."""

    def __init__(self, webhooks: PaymentWebhookService, payments: PaymentService) -> None:
        self._webhooks, self._payments = webhooks, payments

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """200 for a verified delivery (processed now or already); 400 when the signature fails."""
        processed = await self._webhooks.receive(body, headers, request_id=current_request_id())
        return {"received": True, "processed": processed}

    async def checkout_return(self, query: StripeReturnQuery):
        """303 to CHECKOUT_SUCCESS_URL once the session is paid and credited (else the cancel URL)."""
        target = await self._payments.return_redirect("stripe", query.session_id,
                                                      request_id=current_request_id())
        return redirect(target, 303)

    async def checkout_cancel(self, query: StripeReturnQuery):
        """303 to CHECKOUT_CANCEL_URL, the payment marked cancelled."""
        target = await self._payments.cancel_redirect("stripe", query.session_id, payment_id=query.payment_id)
        return redirect(target, 303)

    async def portal(self, principal: Principal) -> dict[str, Any]:
        """The caller's billing portal URL (404 without a customer)."""
        return {"url": await self._payments.portal(principal.require_user_id())}
