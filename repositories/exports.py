"""Data export jobs in MongoDB (`exports`), and the one-running-export-per-user lock
(`export_locks`, one document per user keyed by the user id: its unique `_id` is the lock)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pymongo
from pymongo.errors import DuplicateKeyError

from services.admin.export_model import ExportJob
from services.platform.clock import utcnow


def _aware(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v)
            for k, v in raw.items()}


def _job(raw: dict[str, Any] | None) -> ExportJob | None:
    if raw is None:
        return None
    data = _aware(raw)
    data["id"] = data.pop("_id")
    return ExportJob.model_validate(data)


class MongoExportRepository:
    """Export jobs and their per-user lock."""

    def __init__(self, db: Any) -> None:
        self._db = db

    @property
    def _col(self) -> Any:
        return self._db["exports"]

    @property
    def _locks(self) -> Any:
        return self._db["export_locks"]

    async def create(self, job: ExportJob) -> None:
        """Store a new export."""
        data = job.model_dump()
        data["_id"] = data.pop("id")
        await self._col.insert_one(data)

    async def get(self, export_id: str) -> ExportJob | None:
        """One export, or None."""
        return _job(await self._col.find_one({"_id": export_id}))

    async def update(self, export_id: str, fields: dict[str, Any], *,
                     only_if_status: tuple[str, ...] | None = None) -> ExportJob | None:
        """Set `fields` (only while the status is one of `only_if_status`, when given); the export after."""
        flt: dict[str, Any] = {"_id": export_id}
        if only_if_status:
            flt["status"] = {"$in": list(only_if_status)}
        result = await self._col.update_one(flt, {"$set": fields})
        return await self.get(export_id) if result.matched_count else None

    async def lock(self, user_id: str, export_id: str) -> str | None:
        """Take the user's lock for `export_id`: None when taken, else the export id holding it."""
        try:
            await self._locks.insert_one({"_id": user_id, "export_id": export_id, "at": utcnow()})
            return None
        except DuplicateKeyError:
            holder = await self._locks.find_one({"_id": user_id})
            return holder["export_id"] if holder else export_id  # released meanwhile: the caller retries

    async def unlock(self, user_id: str, export_id: str) -> None:
        """Release the user's lock if `export_id` holds it."""
        await self._locks.delete_one({"_id": user_id, "export_id": export_id})

    async def due(self, *, now: datetime, limit: int) -> list[ExportJob]:
        """Completed exports past their `expires_at`."""
        rows = await self._col.find({"status": "completed", "expires_at": {"$lte": now}}).sort(
            "_id", pymongo.ASCENDING).limit(limit).to_list(limit)
        return [job for job in (_job(raw) for raw in rows) if job is not None]

    async def for_user(self, user_id: str) -> list[ExportJob]:
        """Every export of one user (a handful: one a day at most is kept)."""
        rows = await self._col.find({"user_id": user_id}).to_list(None)
        return [job for job in (_job(raw) for raw in rows) if job is not None]

    async def delete(self, export_id: str) -> None:
        """Remove an export's record."""
        await self._col.delete_one({"_id": export_id})
