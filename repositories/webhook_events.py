"""Processed webhook events: each (source, event id) is claimed once (unique `_id`).

Generic: Clerk (svix-id) and PayPal (event id) deliveries both dedupe here.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from pymongo.errors import DuplicateKeyError

from repositories.documents import MuseDocument
from services.platform.clock import utcnow


class WebhookEventDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # "<source>:<event id>"
    source: str
    event_id: str
    event_type: str | None = None
    received_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "webhook_events"


class BeanieWebhookEventRepository:
    """Claim-once records of webhook deliveries."""

    async def claim(self, source: str, event_id: str, *, event_type: str | None = None) -> bool:
        """True for the first claim of this event, False for every replay (even concurrent)."""
        doc = WebhookEventDocument(
            id=f"{source}:{event_id}", source=source, event_id=event_id, event_type=event_type
        )
        try:
            await WebhookEventDocument.get_pymongo_collection().insert_one(doc.model_dump(by_alias=True))
        except DuplicateKeyError:
            return False
        return True

    async def release(self, source: str, event_id: str) -> None:
        """Forget a claim whose processing failed, so the provider's retry is processed."""
        await WebhookEventDocument.get_pymongo_collection().delete_one({"_id": f"{source}:{event_id}"})

    async def seen(self, source: str, event_id: str) -> bool:
        """Whether this event was claimed."""
        found = await WebhookEventDocument.get_pymongo_collection().find_one({"_id": f"{source}:{event_id}"})
        return found is not None
