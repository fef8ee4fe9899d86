"""Pushed job progress (contract §15): every change of a media job record is published; waiting
callers and event streams follow a job by listening, not by polling the database.

`PublishingRepository` wraps a job repository: each transition that changed a record (claimed,
completed, failed, released, refunded, expired) publishes the record on the job events
port, which reaches every web process. `follow` yields a job's record as it is, then each change.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import structlog

from services.media.image_models import ImageRecord, StoredFile
from services.media.ports.job_events import RESYNC, JobEvents
from services.media.ports.records import GalleryRepository

log = structlog.stdlib.get_logger("muse.job_events")


class PublishingRepository:
    """A `GalleryRepository` that publishes each changed record under `topic` (`images`, `videos`)."""

    def __init__(self, inner: GalleryRepository, events: JobEvents, *, topic: str) -> None:
        self._inner, self._events, self.topic = inner, events, topic
        self.reads = 0  # `get` calls (tests check that followers listen rather than poll)

    async def _publish(self, record: ImageRecord | None) -> ImageRecord | None:
        if record is not None:
            try:
                await self._events.publish(self.topic, record.id, record.model_dump_json())
            except Exception as exc:  # the change is stored; listeners re-read on their deadline
                log.warning("job_event_publish_failed", job_id=record.id, error=type(exc).__name__)
        return record

    async def create(self, record: ImageRecord) -> None:
        # Not published: nobody can follow a job before its id is answered (followers read the
        # record once they listen), and the submission stays one Redis call shorter.
        await self._inner.create(record)

    async def get(self, image_id: str, *, user_id: str | None = None) -> ImageRecord | None:
        self.reads += 1
        return await self._inner.get(image_id, user_id=user_id)

    async def claim(self, image_id: str, *, worker: str | None = None) -> ImageRecord | None:
        return await self._publish(await self._inner.claim(image_id, worker=worker))

    async def beat(self, image_id: str, *, started_at: datetime | None, dispatched: bool = False) -> bool:
        return await self._inner.beat(image_id, started_at=started_at, dispatched=dispatched)  # not a change

    async def silent(self, *, before: datetime, limit: int) -> builtins.list[ImageRecord]:
        return await self._inner.silent(before=before, limit=limit)

    async def requeue_silent(self, image_id: str, *, before: datetime) -> ImageRecord | None:
        return await self._publish(await self._inner.requeue_silent(image_id, before=before))

    async def complete(self, image_id: str, *, outputs: list[StoredFile], provider: str, model: str,
                       seed: int | None, extra: dict[str, Any] | None = None) -> ImageRecord | None:
        return await self._publish(await self._inner.complete(
            image_id, outputs=outputs, provider=provider, model=model, seed=seed, extra=extra))

    async def fail(self, image_id: str, *, error: dict[str, Any], statuses: tuple[str, ...],
                   silent_before: datetime | None = None) -> ImageRecord | None:
        return await self._publish(await self._inner.fail(image_id, error=error, statuses=statuses,
                                                          silent_before=silent_before))

    async def release(self, image_id: str) -> ImageRecord | None:
        return await self._publish(await self._inner.release(image_id))

    async def mark_refunded(self, image_id: str) -> ImageRecord | None:
        return await self._publish(await self._inner.mark_refunded(image_id))

    async def stale(self, *, status: str, before: datetime, limit: int) -> list[ImageRecord]:
        return await self._inner.stale(status=status, before=before, limit=limit)

    async def unrefunded_failures(self, *, before: datetime, limit: int) -> list[ImageRecord]:
        return await self._inner.unrefunded_failures(before=before, limit=limit)

    async def list(self, user_id: str, *, status: str | None, saved: bool | None, limit: int,
                   cursor: str | None) -> builtins.list[ImageRecord]:
        return await self._inner.list(user_id, status=status, saved=saved, limit=limit, cursor=cursor)

    async def save(self, image_id: str, *, user_id: str) -> ImageRecord | None:
        return await self._inner.save(image_id, user_id=user_id)

    async def delete(self, image_id: str, *, user_id: str) -> ImageRecord | None:
        return await self._inner.delete(image_id, user_id=user_id)

    async def expiring(self, *, now: datetime, limit: int) -> builtins.list[ImageRecord]:
        return await self._inner.expiring(now=now, limit=limit)

    async def expire(self, image_id: str) -> ImageRecord | None:
        before = await self._inner.expire(image_id)
        if before is not None:
            await self._publish(before.model_copy(update={"status": "expired", "outputs": []}))
        return before


async def follow(events: JobEvents, repository: GalleryRepository, topic: str, job_id: str, *,
                 timeout_s: float, user_id: str | None = None,
                 heartbeat_s: float | None = None) -> AsyncGenerator[ImageRecord | None, None]:
    """The job's record as it is now, then the record after each change, for up to `timeout_s`
    (and None after each `heartbeat_s` without a change, when given: streams send a keep-alive).

    Listens first, reads once, then waits for pushes (one more read only after a `RESYNC`: the
    listener's connection was lost). Ends when the record is gone or the time is up; callers stop
    iterating once they have seen what they wait for (use `contextlib.aclosing`)."""
    deadline = time.monotonic() + timeout_s
    async with events.subscribe(topic, job_id) as subscription:
        record = await repository.get(job_id, user_id=user_id)
        if record is None:
            return
        yield record
        while (left := deadline - time.monotonic()) > 0:
            payload = await subscription.next(min(left, heartbeat_s) if heartbeat_s else left)
            if payload is None:
                if heartbeat_s and deadline - time.monotonic() > 0:
                    yield None
                    continue
                return
            if payload == RESYNC:
                found = await repository.get(job_id, user_id=user_id)
                if found is None:
                    return
                fresh = found
            else:
                fresh = ImageRecord.model_validate_json(payload)
            yield fresh
