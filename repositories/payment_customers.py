"""Processor customer ids (one per user and processor) in MongoDB; `_id` is "<provider>:<user id>"."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from pymongo.errors import DuplicateKeyError

from repositories.documents import MuseDocument
from services.platform.clock import utcnow


class PaymentCustomerDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # "<provider>:<user id>"
    user_id: str
    provider: str
    external_id: str
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "payment_customers"


class BeanieCustomerRepository:
    """`CustomerRepository`: the first id stored for a (user, processor) wins."""

    async def get(self, user_id: str, provider: str) -> str | None:
        """The stored customer id, if any."""
        collection = PaymentCustomerDocument.get_pymongo_collection()
        found = await collection.find_one({"_id": f"{provider}:{user_id}"})
        return str(found["external_id"]) if found else None

    async def add(self, user_id: str, provider: str, external_id: str) -> str:
        """Store the id unless one is already stored; the stored one either way."""
        doc = PaymentCustomerDocument(id=f"{provider}:{user_id}", user_id=user_id, provider=provider,
                                      external_id=external_id)
        try:
            await PaymentCustomerDocument.get_pymongo_collection().insert_one(doc.model_dump(by_alias=True))
        except DuplicateKeyError:
            return await self.get(user_id, provider) or external_id
        return external_id
