"""Stored `/v1/responses` answers in MongoDB (Beanie 2), one document per response.

The response object and its history are kept as JSON text: they hold clients' JSON schemas
(keys such as `$defs` and `$ref`) and free text that must come back exactly as sent.
"""

from __future__ import annotations

from datetime import datetime

import orjson
from pymongo import ASCENDING, DESCENDING, IndexModel

from repositories.documents import MuseDocument
from services.chat.ports import StoredResponse


class ResponseDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # resp_…
    user_id: str
    created_at: datetime
    body: str  # the response object, JSON
    history: str  # chat-completions messages up to and including the answer, JSON

    class Settings:
        name = "responses"
        indexes = [IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)])]

    def to_domain(self) -> StoredResponse:
        return StoredResponse(id=self.id, user_id=self.user_id, created_at=self.created_at,
                              body=orjson.loads(self.body), history=orjson.loads(self.history))


class BeanieResponseStore:
    """`ResponseStore` on MongoDB; every read and delete is scoped to the owner."""

    async def insert(self, response: StoredResponse) -> None:
        """Keep `response`."""
        await ResponseDocument(id=response.id, user_id=response.user_id, created_at=response.created_at,
                               body=orjson.dumps(response.body).decode(),
                               history=orjson.dumps(response.history).decode()).insert()

    async def get(self, response_id: str, *, user_id: str) -> StoredResponse | None:
        """The owner's response with this id, or None."""
        doc = await ResponseDocument.find_one({"_id": response_id, "user_id": user_id})
        return doc.to_domain() if doc else None

    async def delete(self, response_id: str, *, user_id: str) -> bool:
        """Delete the owner's response; False when there was none."""
        result = await ResponseDocument.find({"_id": response_id, "user_id": user_id}).delete()
        return bool(result and result.deleted_count)

    async def delete_all(self, user_id: str) -> int:
        """Delete every response of the user; how many there were."""
        result = await ResponseDocument.find({"user_id": user_id}).delete()
        return result.deleted_count if result else 0
