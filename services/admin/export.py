"""Data export (contract §20): a user's data as a zip archive, made by a background job.

`start` answers the user's running export, or queues a new one (one running export per user: a
lock keyed by the user, taken after the record exists, so a second request answers the first job);
the worker's `run` writes the archive section by section, each one page of records at a time
(never the whole account in memory), pushing the job's record after each section like media jobs
(`JobEvents`, topic `exports`); a completed archive is kept `ttl_s` (24 h), then `sweep` deletes
it. `delete_all` removes a user's exports (account deletion).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import structlog

from services.admin.export_model import RUNNING, SECTIONS, ExportJob
from services.admin.ports import ArchiveStore, ExportRepository, ExportSources
from services.media.ports.job_events import RESYNC, JobEvents
from services.platform.clock import utcnow
from services.platform.errors import Conflict, Gone, NotFound
from services.platform.ids import new_id
from services.platform.ports.queue import JobName, JobQueue

log = structlog.stdlib.get_logger("muse.export")
TOPIC = "exports"
STALE_AFTER = timedelta(hours=1)  # a running export this quiet lost its worker: a new one may start
CHUNK_ROWS = 50  # records per write


class DataExport:
    """Start, run, follow, download and sweep data exports."""

    def __init__(self, exports: ExportRepository, archives: ArchiveStore, sources: ExportSources,
                 queue: JobQueue, events: JobEvents, *, ttl_s: float) -> None:
        self._exports, self._archives, self._sources = exports, archives, sources
        self._queue, self._events, self.ttl = queue, events, timedelta(seconds=ttl_s)

    async def start(self, user_id: str) -> ExportJob:
        """The user's running export, else a new queued one."""
        now = utcnow()
        job = ExportJob(id=new_id("exp"), user_id=user_id, created_at=now, updated_at=now)
        await self._exports.create(job)
        for _ in range(3):
            holder = await self._exports.lock(user_id, job.id)
            if holder is None:
                await self._queue.enqueue(JobName.EXPORT_DATA, job.id, job_id=job.id)
                log.info("export_queued", export_id=job.id, user_id=user_id)
                return job
            if holder == job.id:
                continue  # the holder released the lock meanwhile: take it now
            running = await self._exports.get(holder)
            if running is not None and running.status in RUNNING and now - running.updated_at < STALE_AFTER:
                await self._exports.delete(job.id)
                return running
            if running is not None and running.status in RUNNING:
                await self._set(running.id, {"status": "failed", "error": "the worker stopped"})
            await self._exports.unlock(user_id, holder)
        await self._exports.delete(job.id)
        raise Conflict("An export is starting; try again in a moment.")

    async def get(self, user_id: str, export_id: str) -> ExportJob:
        """One of the user's exports; another user's is 404."""
        job = await self._exports.get(export_id)
        if job is None or job.user_id != user_id:
            raise NotFound("No such export.")
        return job

    async def download(self, user_id: str, export_id: str) -> tuple[AsyncIterator[bytes], int]:
        """The finished archive's bytes (streamed) and size: 409 while it runs, 410 once deleted."""
        job = await self.get(user_id, export_id)
        if job.status == "expired":
            raise Gone("This export expired; its archive was deleted.")
        if job.status != "completed":
            raise Conflict(f"This export is {job.status}; download it once it is completed.")
        size = self._archives.size(job.id)
        if size is None:
            raise Gone("This export's archive is gone.")
        return self._archives.read(job.id), size

    async def follow(self, user_id: str, export_id: str, *, timeout_s: float
                     ) -> AsyncGenerator[ExportJob, None]:
        """The export as it is, then after each pushed change, until it ends (or `timeout_s`)."""
        await self.get(user_id, export_id)
        async with self._events.subscribe(TOPIC, export_id) as subscription:
            job = await self.get(user_id, export_id)
            yield job
            deadline = utcnow() + timedelta(seconds=timeout_s)
            while job.status in RUNNING and (left := (deadline - utcnow()).total_seconds()) > 0:
                payload = await subscription.next(left)
                if payload is None:
                    return
                job = (await self.get(user_id, export_id) if payload == RESYNC
                       else ExportJob.model_validate_json(payload))
                yield job

    async def run(self, export_id: str) -> str:
        """The worker's job: write the archive, then mark the export completed (or failed)."""
        job = await self._set(export_id, {"status": "in_progress"}, only_if_status=("queued",))
        if job is None:
            return "skipped"
        items = 0
        try:
            async with self._archives.create(job.id) as archive:
                for done, (name, rows) in enumerate(self._sources.sections(job.user_id), start=1):
                    counter = _Counter()
                    single = name == "profile.json"
                    body = _json_object(rows, counter) if single else _json_array(rows, counter)
                    await archive.add(name, body)
                    items += counter.count
                    await self._set(job.id, {"sections_done": done, "items": items})
            size = self._archives.size(job.id)
            now = utcnow()
            await self._set(job.id, {"status": "completed", "size_bytes": size, "completed_at": now,
                                     "expires_at": now + self.ttl})
            log.info("export_completed", export_id=job.id, items=items, size_bytes=size)
            return "completed"
        except Exception as exc:
            log.exception("export_failed", export_id=job.id)
            await self._set(job.id, {"status": "failed", "error": type(exc).__name__})
            return "failed"
        finally:
            await self._exports.unlock(job.user_id, job.id)

    async def sweep(self, *, limit: int = 100) -> int:
        """Delete the archives of exports past `expires_at`; the records say `expired`."""
        count = 0
        for job in await self._exports.due(now=utcnow(), limit=limit):
            await self._archives.delete(job.id)
            await self._set(job.id, {"status": "expired", "size_bytes": None})
            count += 1
        return count

    async def delete_all(self, user_id: str) -> int:
        """Delete the user's exports, archives and records (account deletion)."""
        jobs = await self._exports.for_user(user_id)
        for job in jobs:
            await self._archives.delete(job.id)
            await self._exports.delete(job.id)
            await self._exports.unlock(user_id, job.id)
        return len(jobs)

    async def _set(self, export_id: str, fields: dict[str, Any], *,
                   only_if_status: tuple[str, ...] | None = None) -> ExportJob | None:
        job = await self._exports.update(export_id, {**fields, "updated_at": utcnow()},
                                         only_if_status=only_if_status)
        if job is not None:
            try:
                await self._events.publish(TOPIC, job.id, job.model_dump_json())
            except Exception as exc:  # stored; followers re-read on RESYNC or poll the Location
                log.warning("export_event_publish_failed", export_id=job.id, error=type(exc).__name__)
        return job


class _Counter:
    count = 0


async def _json_object(rows: Callable[[], AsyncIterator[dict[str, Any]]], counter: _Counter
                       ) -> AsyncIterator[bytes]:
    """The one record of a section (the profile) as a JSON object."""
    async for row in rows():
        counter.count += 1
        yield json.dumps(row, default=str, ensure_ascii=False).encode()
        return
    yield b"null"


async def _json_array(rows: Callable[[], AsyncIterator[dict[str, Any]]], counter: _Counter
                      ) -> AsyncIterator[bytes]:
    """A JSON array, written a few records at a time."""
    yield b"["
    batch: list[str] = []
    async for row in rows():
        batch.append(json.dumps(row, default=str, ensure_ascii=False))
        counter.count += 1
        if len(batch) >= CHUNK_ROWS:
            yield (("," if counter.count > len(batch) else "") + ",".join(batch)).encode()
            batch = []
    if batch:
        yield (("," if counter.count > len(batch) else "") + ",".join(batch)).encode()
    yield b"]"


__all__ = ["SECTIONS", "DataExport", "ExportJob"]
