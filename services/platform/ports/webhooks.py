"""Webhook deliveries processed once, whatever their source (Clerk, PayPal, ...).

Implementation: `repositories/webhook_events.py`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class ProcessedEvents(Protocol):
    """Claim-once records of webhook deliveries, per source."""

    async def claim(self, source: str, event_id: str, *, event_type: str | None = None) -> bool:
        """True when this caller claimed the event (first delivery)."""
        ...

    async def release(self, source: str, event_id: str) -> None:
        """Forget a claim (applying the event failed: the sender's retry is processed)."""
        ...
