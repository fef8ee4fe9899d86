"""Audit log of administrative changes (who, when, what, before, after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from pydantic import Field

from repositories.documents import MuseDocument
from services.platform.clock import utcnow
from services.platform.ids import new_id


class AuditLogDocument(MuseDocument):
    id: str = Field(default_factory=lambda: new_id("aud"))  # type: ignore[assignment]  # our ids are strings
    at: datetime
    actor_id: str
    action: str
    target: str | None = None
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None
    ip: str | None = None  # the acting client's address (after trusted proxies)

    class Settings:
        name = "audit_log"
        indexes = [
            # (nx-27017 cannot index `_id` inside a compound index; `at` orders like the id.)
            [("action", pymongo.ASCENDING), ("at", pymongo.DESCENDING)],
            [("target", pymongo.ASCENDING), ("at", pymongo.DESCENDING)],
            [("at", pymongo.DESCENDING)],
        ]


class BeanieAuditLogRepository:
    """Append-only audit entries in MongoDB."""

    async def record(self, *, actor_id: str, action: str, target: str | None, before: dict[str, Any],
                     after: dict[str, Any], request_id: str | None, ip: str | None = None) -> str:
        """Append one entry; return its id."""
        doc = AuditLogDocument(at=utcnow(), actor_id=actor_id, action=action, target=target,
                               before=before, after=after, request_id=request_id, ip=ip)
        await doc.insert()
        return doc.id

    async def list(self, *, action: str | None = None, target: str | None = None, limit: int = 20,
                   cursor: str | None = None) -> list[dict[str, Any]]:
        """Newest entries first, optionally filtered; `cursor` is the last id already seen."""
        query: dict[str, Any] = {}
        if action:
            query["action"] = action
        if target:
            query["target"] = target
        if cursor:
            query["_id"] = {"$lt": cursor}
        docs = await AuditLogDocument.find(query).sort(-AuditLogDocument.id).limit(limit).to_list()  # type: ignore[operator]
        return [doc.model_dump() for doc in docs]
