"""Records of background job runs (what ran, when, with which request ID)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pymongo
from pydantic import Field

from repositories.documents import MuseDocument
from services.platform.clock import utcnow
from services.platform.ids import new_id


class JobRunDocument(MuseDocument):
    id: str = Field(default_factory=lambda: new_id("job"))  # type: ignore[assignment]  # our ids are strings
    name: str
    started_at: datetime
    finished_at: datetime | None = None
    ok: bool | None = None
    request_id: str | None = None
    result: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "job_runs"
        indexes = [[("name", pymongo.ASCENDING), ("started_at", pymongo.DESCENDING)]]


class BeanieJobRunRepository:
    """Job run history in MongoDB."""

    async def create(self, *, name: str, request_id: str | None) -> str:
        """Record that a job started; return the run id."""
        doc = JobRunDocument(name=name, started_at=utcnow(), request_id=request_id)
        await doc.insert()
        return doc.id

    async def finish(self, run_id: str, *, ok: bool, result: dict[str, Any]) -> None:
        """Record how a run ended."""
        await JobRunDocument.find_one(JobRunDocument.id == run_id).update(
            {"$set": {"finished_at": utcnow(), "ok": ok, "result": result}}
        )

    async def list(self, *, name: str | None = None, limit: int = 20) -> list[JobRunDocument]:
        """The newest runs, optionally of one job."""
        query = JobRunDocument.find(JobRunDocument.name == name) if name else JobRunDocument.find()
        return await query.sort(-JobRunDocument.started_at).limit(limit).to_list()  # type: ignore[operator]

    async def delete_older_than(self, age: timedelta) -> int:
        """Forget runs older than `age`; return how many."""
        result = await JobRunDocument.find(JobRunDocument.started_at < utcnow() - age).delete()
        return result.deleted_count if result else 0
