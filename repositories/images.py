"""Image job records in MongoDB (Beanie). Every state change is a conditional update."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import pymongo
from pydantic import Field
from pymongo import ReturnDocument

from repositories.documents import MuseDocument
from services.media.image_models import ImageRecord, StoredFile
from services.platform.clock import utcnow
from services.platform.ids import new_id


class MediaDocument(MuseDocument):
    """The fields of a media job record; `ImageDocument` and `VideoDocument` are its collections."""

    id: str = Field(default_factory=lambda: new_id("img"))  # type: ignore[assignment]  # our ids are strings
    user_id: str
    status: str = "queued"
    kind: str = "generate"
    prompt: str
    negative_prompt: str | None = None
    aspect_ratio: str = "1:1"
    width: int
    height: int
    num_outputs: int = 1
    seed: int | None = None
    model: str = "default"
    provider: str | None = None
    providers: list[str] | None = None
    output_format: str = "webp"
    outputs: list[dict[str, Any]] = Field(default_factory=list)
    source: dict[str, Any] | None = None
    mask: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    saved: bool = False
    expires_at: datetime | None = None
    credits_charged: int = 0
    receipt: dict[str, Any] | None = None
    refunded: bool = False
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    claimed_by: str | None = None
    heartbeat_at: datetime | None = None
    dispatched_at: datetime | None = None
    request_id: str | None = None
    duration_s: float | None = None
    fps: int | None = None
    source_image_id: str | None = None


MEDIA_INDEXES = [
    [("user_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)],
    [("status", pymongo.ASCENDING), ("started_at", pymongo.ASCENDING)],
    [("status", pymongo.ASCENDING), ("heartbeat_at", pymongo.ASCENDING)],
    [("saved", pymongo.ASCENDING), ("expires_at", pymongo.ASCENDING)],
]


class ImageDocument(MediaDocument):
    class Settings:
        name = "images"
        indexes = MEDIA_INDEXES


def _record(raw: dict[str, Any] | None) -> ImageRecord | None:
    if raw is None:
        return None
    data = dict(raw)
    data["id"] = data.pop("_id")
    return ImageRecord.model_validate(data)


class BeanieImageRepository:
    """The `images` collection (or `videos`, with `document=VideoDocument` of repositories/videos.py:
    the same records)."""

    def __init__(self, document: type[MediaDocument] = ImageDocument) -> None:
        self._document = document

    @property
    def _col(self):  # type: ignore[no-untyped-def]
        return self._document.get_pymongo_collection()

    async def create(self, record: ImageRecord) -> None:
        """Insert a new record."""
        await self._document(**record.model_dump()).insert()

    async def get(self, image_id: str, *, user_id: str | None = None) -> ImageRecord | None:
        """The record (only if it belongs to `user_id` when given)."""
        query: dict[str, Any] = {"_id": image_id}
        if user_id is not None:
            query["user_id"] = user_id
        return _record(await self._col.find_one(query))

    async def _transition(self, query: dict[str, Any], update: dict[str, Any]) -> ImageRecord | None:
        update.setdefault("$set", {})["updated_at"] = utcnow()
        raw = await self._col.find_one_and_update(query, update, return_document=ReturnDocument.AFTER)
        return _record(raw)

    async def claim(self, image_id: str, *, worker: str | None = None) -> ImageRecord | None:
        """queued → in_progress with a first heartbeat; None when the record is not queued (claimed
        elsewhere or finished)."""
        now = utcnow()
        return await self._transition(
            {"_id": image_id, "status": "queued"},
            {"$set": {"status": "in_progress", "started_at": now, "heartbeat_at": now, "claimed_by": worker,
                      "dispatched_at": None}},
        )

    async def beat(self, image_id: str, *, started_at: datetime | None, dispatched: bool = False) -> bool:
        """Renew the heartbeat of the claim that started at `started_at` (and note its first provider
        call when `dispatched`); False when that claim is over (finished, reaped, re-claimed)."""
        now = utcnow()
        fields: dict[str, Any] = {"heartbeat_at": now}
        if dispatched:
            fields["dispatched_at"] = now
        result = await self._col.update_one(
            {"_id": image_id, "status": "in_progress", "started_at": started_at}, {"$set": fields})
        return result.matched_count == 1

    async def silent(self, *, before: datetime, limit: int) -> list[ImageRecord]:
        """In-progress records whose last heartbeat is older than `before` (their worker stopped)."""
        cursor = self._col.find({"status": "in_progress", "heartbeat_at": {"$lt": before}}).limit(limit)
        return [r for r in [_record(raw) async for raw in cursor] if r]

    async def requeue_silent(self, image_id: str, *, before: datetime) -> ImageRecord | None:
        """in_progress → queued for a silent claim that sent nothing to a provider; None otherwise."""
        return await self._transition(
            {"_id": image_id, "status": "in_progress", "heartbeat_at": {"$lt": before},
             "dispatched_at": None},
            {"$set": {"status": "queued", "started_at": None, "heartbeat_at": None, "claimed_by": None}},
        )

    async def complete(
        self, image_id: str, *, outputs: list[StoredFile], provider: str, model: str, seed: int | None,
        extra: dict[str, Any] | None = None,
    ) -> ImageRecord | None:
        """in_progress → completed with the stored outputs (and `extra` fields such as a video's `fps`);
        None when no longer in progress."""
        return await self._transition(
            {"_id": image_id, "status": "in_progress"},
            {
                "$set": {
                    "status": "completed",
                    "outputs": [o.model_dump() for o in outputs],
                    "provider": provider,
                    "model": model,
                    "seed": seed,
                    "finished_at": utcnow(),
                    "error": None,
                    **(extra or {}),
                }
            },
        )

    async def fail(
        self, image_id: str, *, error: dict[str, Any], statuses: tuple[str, ...],
        silent_before: datetime | None = None,
    ) -> ImageRecord | None:
        """(one of `statuses`) → failed; the record when this call made the change. With
        `silent_before`, only while its last heartbeat is older than that (a worker that beat
        meanwhile keeps its job)."""
        query: dict[str, Any] = {"_id": image_id, "status": {"$in": list(statuses)}}
        if silent_before is not None:
            # (nx-27017 matches nothing for `$in` next to a `$lt` on a date; one status is equality)
            query["status"] = statuses[0] if len(statuses) == 1 else query["status"]
            query["heartbeat_at"] = {"$lt": silent_before}
        return await self._transition(
            query,
            {"$set": {"status": "failed", "error": error, "finished_at": utcnow()}},
        )

    async def release(self, image_id: str) -> ImageRecord | None:
        """in_progress → queued (a worker stopping before the job finished); None when not in progress."""
        return await self._transition(
            {"_id": image_id, "status": "in_progress"},
            {"$set": {"status": "queued", "started_at": None, "heartbeat_at": None, "claimed_by": None}},
        )

    async def mark_refunded(self, image_id: str) -> ImageRecord | None:
        """Note that the charge went back."""
        return await self._transition({"_id": image_id}, {"$set": {"refunded": True}})

    async def stale(self, *, status: str, before: datetime, limit: int) -> list[ImageRecord]:
        """Records in `status` since before `before` (in progress: started; queued: created)."""
        field = "started_at" if status == "in_progress" else "created_at"
        cursor = self._col.find({"status": status, field: {"$lt": before}}).limit(limit)
        return [r for r in [_record(raw) async for raw in cursor] if r]

    async def unrefunded_failures(self, *, before: datetime, limit: int) -> list[ImageRecord]:
        """Failed, charged, not yet refunded records that failed before `before`."""
        cursor = self._col.find(
            {"status": "failed", "refunded": False, "receipt": {"$ne": None}, "finished_at": {"$lt": before}}
        ).limit(limit)
        return [r for r in [_record(raw) async for raw in cursor] if r]

    async def list(
        self, user_id: str, *, status: str | None, saved: bool | None, limit: int, cursor: str | None
    ) -> builtins.list[ImageRecord]:
        """The user's records, newest first (ids sort by time), after `cursor`."""
        query: dict[str, Any] = {"user_id": user_id}
        query["status"] = status if status else {"$ne": "expired"}
        if saved is not None:
            query["saved"] = saved
        if cursor:
            query["_id"] = {"$lt": cursor}
        found = self._col.find(query).sort("_id", pymongo.DESCENDING).limit(limit)
        return [r for r in [_record(raw) async for raw in found] if r]

    async def save(self, image_id: str, *, user_id: str) -> ImageRecord | None:
        """Keep the image: saved, no expiry (not for expired records)."""
        return await self._transition(
            {"_id": image_id, "user_id": user_id, "status": {"$ne": "expired"}},
            {"$set": {"saved": True, "expires_at": None}},
        )

    async def delete(self, image_id: str, *, user_id: str) -> ImageRecord | None:
        """Remove the record; the removed record (to delete its files) or None."""
        return _record(await self._col.find_one_and_delete({"_id": image_id, "user_id": user_id}))

    async def expiring(self, *, now: datetime, limit: int) -> builtins.list[ImageRecord]:
        """Unsaved, finished records whose expiry passed."""
        cursor = self._col.find(
            {"saved": False, "expires_at": {"$lte": now}, "status": {"$in": ["completed", "failed"]}}
        ).limit(limit)
        return [r for r in [_record(raw) async for raw in cursor] if r]

    async def expire(self, image_id: str) -> ImageRecord | None:
        """completed/failed and unsaved → expired (outputs cleared); the record before the change."""
        return _record(
            await self._col.find_one_and_update(
                {"_id": image_id, "saved": False, "status": {"$in": ["completed", "failed"]}},
                {
                    "$set": {
                        "status": "expired",
                        "outputs": [],
                        "source": None,
                        "mask": None,
                        "updated_at": utcnow(),
                    }
                },
                return_document=ReturnDocument.BEFORE,
            )
        )
