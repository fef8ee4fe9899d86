"""Idempotency records in MongoDB (24 h TTL index; expiry is also checked in code)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from pymongo.errors import DuplicateKeyError

from repositories.documents import MuseDocument
from services.platform.idempotency import IdempotencyRecord


class IdempotencyRecordDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # sha256 of scope + key
    scope: str
    key: str
    fingerprint: str
    state: str  # "in_flight" | "done"
    status: int | None = None
    body: str | None = None
    content_type: str | None = None
    location: str | None = None  # records stored before `headers`
    headers: dict[str, str] = {}
    created_at: datetime
    locked_until: datetime
    expires_at: datetime

    class Settings:
        name = "idempotency_keys"
        indexes = [pymongo.IndexModel([("expires_at", pymongo.ASCENDING)], expireAfterSeconds=0,
                                      name="idempotency_ttl")]


def _record(doc: dict[str, Any]) -> IdempotencyRecord:
    data = dict(doc)
    data["id"] = data.pop("_id")
    return IdempotencyRecord(**{k: v for k, v in data.items() if k in IdempotencyRecord.model_fields})


class BeanieIdempotencyRepository:
    """Claims, completes and releases idempotency keys."""

    @property
    def _col(self):
        return IdempotencyRecordDocument.get_pymongo_collection()

    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Insert an in-flight record; None if claimed, else the record already there."""
        doc = record.model_dump()
        doc["_id"] = doc.pop("id")
        try:
            await self._col.insert_one(doc)
            return None
        except DuplicateKeyError:
            existing = await self._col.find_one({"_id": record.id})
            return _record(existing) if existing else _record(doc)

    async def take_over(self, record: IdempotencyRecord, *, now: datetime) -> bool:
        """Replace an expired record, or an in-flight one whose lock lapsed (its holder died).

        Delete-then-insert rather than `$set`: inserted times keep their type on nx-27017."""
        stale = {"$or": [{"expires_at": {"$lte": now}},
                         {"state": "in_flight", "locked_until": {"$lte": now}}]}
        deleted = await self._col.delete_one({"_id": record.id, **stale})
        if deleted.deleted_count != 1:
            return False
        return await self.claim(record) is None

    async def complete(self, record_id: str, *, status: int, body: str, content_type: str,
                       headers: dict[str, str]) -> None:
        """Store the response to replay."""
        await self._col.update_one({"_id": record_id, "state": "in_flight"}, {"$set": {
            "state": "done", "status": status, "body": body, "content_type": content_type,
            "headers": headers}})

    async def release(self, record_id: str) -> None:
        """Drop an in-flight record so the request can be retried."""
        await self._col.delete_one({"_id": record_id, "state": "in_flight"})
