"""Clerk webhook endpoint (contract §8): the service verifies the Svix signature and applies once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.identity.webhooks import ClerkEventService


class ClerkWebhooksController:
    """Receives Clerk user events."""

    def __init__(self, events: ClerkEventService) -> None:
        self._events = events

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """200 for a verified delivery (processed now or already); 400 for a bad signature."""
        processed = await self._events.receive(body, headers)
        return {"received": True, "processed": processed}
