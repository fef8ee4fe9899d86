"""The media library: the web side of one kind of media job (images, videos), the same for every kind.

Submitting (charge → record → enqueue; when the enqueue fails, the job is failed and refunded here
with the job core's `JobSettlement`, no runner involved), waiting and following by pushed events, the
gallery, saving, deleting and temp-media expiry. What differs per kind is data (`MediaType`); how a
kind builds its records is its submission service's (`ImageService`, `VideoService`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from services.credits.ports import Charge, Credits, charged
from services.media.image_models import Caller, ImageRecord, receipt_data
from services.media.job_events import follow
from services.media.jobs import JobSettlement
from services.media.ports.job_events import JobEvents
from services.media.ports.records import GalleryRepository
from services.media.ports.storage import StorageProvider, StoredObject
from services.platform import key_limits
from services.platform.clock import utcnow
from services.platform.errors import FeatureDisabled, Gone, NotFound, ServiceUnavailable, ValidationFailed
from services.platform.ids import new_id
from services.platform.live_settings import LiveSettingsService
from services.platform.ports.queue import JobQueue
from services.platform.uploads import CheckedUpload

log = structlog.stdlib.get_logger("muse.images")


@dataclass(frozen=True)
class MediaType:
    """What names one kind of media job."""

    noun: str  # in messages and refund reasons ("image", "video")
    topic: str  # job events topic (and route prefix)
    id_prefix: str
    job: str  # the JobName its jobs are enqueued under
    disabled: str  # the message while the images feature is switched off


class MediaLibrary:
    """The web side of one kind of media job; the worker side is the job core (services/media/jobs.py)."""

    def __init__(
        self,
        media: MediaType,
        *,
        records: GalleryRepository,
        storage: StorageProvider,
        queue: JobQueue,
        credits: Credits,
        provider_names: list[str],
        events: JobEvents,
        live_settings: LiveSettingsService | None = None,
        ttl_h: float = 24.0,
        timeout_s: float = 120.0,
    ) -> None:
        self.media, self.noun, self.topic = media, media.noun, media.topic
        self._images, self._storage = records, storage
        self._queue, self._credits = queue, credits
        self._settlement = JobSettlement(records, credits, label=media.noun)
        self._provider_names = provider_names
        self._events = events
        self._live = live_settings
        self._ttl = timedelta(hours=ttl_h)
        self.timeout_s = timeout_s

    async def check_enabled(self) -> None:
        if self._live is not None and not (await self._live.current()).images_enabled:
            raise FeatureDisabled(self.media.disabled)

    def model_names(self) -> list[str]:
        """The models clients may ask for: `default` (the configured chain) and each provider."""
        return ["default", *self._provider_names]

    async def offered_models(self) -> list[str]:
        """The models clients can use now: none while images are switched off; `default` while any
        provider is on, and each provider that is on."""
        if self._live is None:
            return self.model_names()
        live = await self._live.current()
        if not live.images_enabled:
            return []
        enabled = [name for name in self._provider_names if live.provider_enabled(name)]
        return ["default", *enabled] if enabled else []

    def providers_for(self, model: str) -> list[str] | None:
        key_limits.require_model(model or "default")
        if model in ("default", "", None):
            return None
        if model not in self._provider_names:
            raise ValidationFailed(
                errors=[
                    {
                        "loc": ["model"],
                        "msg": f"unknown model {model!r}; use 'default' "
                        f"or one of {', '.join(self._provider_names)}",
                    }
                ]
            )
        return [model]

    async def source_upload(self, caller: Caller, image_id: str, *, index: int = 0) -> CheckedUpload:
        """Output `index` of one of the caller's completed images, as an upload (edit/describe source)."""
        record = await self.get(caller.user_id, image_id)
        if record.status != "completed" or not record.outputs:
            raise ValidationFailed(errors=[{"loc": ["source_image_id"], "msg": "the image has no outputs"}])
        file = record.outputs[min(index, len(record.outputs) - 1)]
        data = await self._storage.get(StoredObject(file.key, file.url))
        fmt = file.format or "png"
        return CheckedUpload(
            data=data,
            format=fmt,
            content_type=f"image/{fmt}",
            width=file.width or record.width,
            height=file.height or record.height,
        )

    def new_record(self, caller: Caller, **fields: Any) -> ImageRecord:
        now = utcnow()
        return ImageRecord(
            id=new_id(self.media.id_prefix),
            user_id=caller.user_id,
            created_at=now,
            updated_at=now,
            expires_at=now + self._ttl,
            request_id=caller.request_id,
            **fields,
        )

    async def submit(self, caller: Caller, record: ImageRecord, *, price: int,
                     ledger_kind: str) -> ImageRecord:
        """Charge, record (queued) and enqueue a job; an enqueue that fails fails the job and refunds it."""
        units = {"video_seconds": int(record.duration_s or 0)} if ledger_kind == "video" \
            else {"images": record.num_outputs}
        charge = Charge(caller.user_id, price, plan=caller.plan, kind=ledger_kind, ref=record.id,
                        model=record.model or "default", units=units)
        async with charged(self._credits, charge, refund_reason=f"{self.noun}_not_recorded",
                           request_id=caller.request_id) as receipt:
            record.credits_charged, record.receipt = price, receipt_data(receipt)
            await self._images.create(record)
        # Recorded: from here on failing the job refunds it, once (the worker's runner or, when the
        # enqueue fails, this library's settlement).
        try:
            await self._queue.enqueue(self.media.job, record.id, job_id=record.id)
        except Exception as exc:
            log.exception("media_enqueue_failed", job_id=record.id, media=self.noun)
            unavailable = ServiceUnavailable("The job queue is unavailable; credits refunded.")
            await self._settlement.fail(record, unavailable)
            raise ServiceUnavailable("The job queue is unavailable; please retry.") from exc
        log.info("media_job_submitted", job_id=record.id, kind=record.kind, charged=price)
        return record

    def follow(self, image_id: str, *, user_id: str | None = None, timeout_s: float | None = None,
               heartbeat_s: float | None = None) -> AsyncGenerator[ImageRecord | None, None]:
        """The record now, then after each change (pushed from whichever process made it); None
        after each `heartbeat_s` without a change (when given)."""
        return follow(self._events, self._images, self.topic, image_id, user_id=user_id,
                      timeout_s=self.timeout_s if timeout_s is None else timeout_s, heartbeat_s=heartbeat_s)

    async def wait(self, image_id: str, *, timeout_s: float | None = None) -> ImageRecord:
        """The record once it is settled: finished, a failure refunded (or as it is after `timeout_s`).

        Listens for the job's changes (no polling); reads the record once more at the deadline."""
        async with aclosing(self.follow(image_id, timeout_s=timeout_s)) as changes:
            async for record in changes:
                if record is not None and record.settled:
                    return record
        last = await self._images.get(image_id)
        if last is None:
            raise NotFound()
        return last

    async def get(self, user_id: str, image_id: str) -> ImageRecord:
        """One of the user's images (another user's → 404)."""
        record = await self._images.get(image_id, user_id=user_id)
        if record is None:
            raise NotFound(f"No such {self.noun}.")
        return record

    async def list(
        self,
        user_id: str,
        *,
        status: str | None = None,
        saved: bool | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[ImageRecord], str | None]:
        """A page of the user's images, newest first, and the cursor of the next page."""
        rows = await self._images.list(user_id, status=status, saved=saved, limit=limit + 1, cursor=cursor)
        return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)

    async def save(self, user_id: str, image_id: str) -> ImageRecord:
        """Keep an image: it no longer expires."""
        record = await self._images.save(image_id, user_id=user_id)
        if record is None:
            await self.get(user_id, image_id)  # 404 for unknown / other users' images
            raise Gone(f"This {self.noun} expired; its files were deleted.")
        return record

    async def delete(self, user_id: str, image_id: str) -> None:
        """Delete the record and its stored files."""
        record = await self._images.delete(image_id, user_id=user_id)
        if record is None:
            raise NotFound(f"No such {self.noun}.")
        await self._delete_files(record)

    async def _delete_files(self, record: ImageRecord) -> int:
        deleted = 0
        keys = [f.key for f in [*record.outputs, *(f for f in (record.source, record.mask) if f)]]
        keys += [f.poster_key for f in record.outputs if f.poster_key]
        for key in keys:
            try:
                deleted += bool(await self._storage.delete(key))
            except Exception:
                log.warning("media_file_delete_failed", job_id=record.id, key=key)
        return deleted

    async def expire_due(self, *, limit: int = 500) -> int:
        """Mark unsaved images past their expiry `expired` and delete their files; return how many."""
        count = 0
        for candidate in await self._images.expiring(now=utcnow(), limit=limit):
            before = await self._images.expire(candidate.id)
            if before is not None:
                await self._delete_files(before)
                count += 1
        if count:
            log.info("media_expired", media=self.noun, count=count)
        return count
