"""PayPal webhook endpoint (contract §6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from middlewares.request_id import current_request_id
from services.payments.webhooks import PaymentWebhookService


class PayPalWebhooksController:
    """Receives PayPal events."""

    def __init__(self, webhooks: PaymentWebhookService) -> None:
        self._webhooks = webhooks

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """200 for a verified delivery (processed now or already); 400 when PayPal does not vouch for it."""
        processed = await self._webhooks.receive(body, headers, request_id=current_request_id())
        return {"received": True, "processed": processed}
