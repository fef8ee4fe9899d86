"""Clerk webhook endpoint (contract §8): verify the Svix signature, then apply once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.errors import InvalidWebhook, ServiceUnavailable
from providers.clerk import ClerkWebhookVerifier
from services.auth_webhooks import ClerkEventService


class ClerkWebhooksController:
    """Receives Clerk user events."""

    def __init__(self, verifier: ClerkWebhookVerifier | None, events: ClerkEventService) -> None:
        self._verifier, self._events = verifier, events

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """200 for a verified delivery (processed now or already); 400 for a bad signature."""
        if self._verifier is None:
            raise ServiceUnavailable("Clerk webhooks are not configured.")
        event = self._verifier.verify(body, headers)
        svix_id = headers.get("svix-id") or headers.get("webhook-id")
        if not svix_id:
            raise InvalidWebhook("Missing svix-id.")
        processed = await self._events.handle(svix_id, event)
        return {"received": True, "processed": processed}
