"""The worker side of media jobs: claim, failover, store, then complete or fail and refund.

`ImageJobRunner` runs image jobs; `services/video_jobs.VideoJobRunner` is the same runner with
its own `_produce` / `_store` (claiming, failing, refunding, releasing and sweeping are shared).

Several workers may run the same queue: a job first claims its record with a
conditional update (queued → in_progress); only the claimer works on it.
Failing a record is a conditional update too, and only the caller that made
the transition refunds, so a charge is refunded exactly once (the credits
service refuses a second refund of a receipt as well).

The chain shares the chat chain's circuit breaker (providers/breaker.py) under
namespaced names (`images:replicate`, `images:openai`: "openai" is a chat
provider too): a provider whose circuit is open is skipped without a call.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from services.credits.ports import Credits
from services.media.heartbeat import ClaimLost, Heartbeat
from services.media.image_models import (
    ACTIVE,
    ImageRecord,
    ImageRepository,
    Status,
    StoredFile,
    problem_of,
    receipt_from,
)
from services.media.ports.images import CONTENT_TYPES, ImageProvider, ImageRequest, ImageResult
from services.media.ports.storage import StorageProvider, StoredObject
from services.platform.clock import utcnow
from services.platform.errors import AppError, InternalError, UpstreamError, UpstreamTimeout
from services.platform.failover import Failover, Failure
from services.platform.ports.breaker import CircuitBreaker
from services.platform.ports.queue import JobQueue

log = structlog.stdlib.get_logger("muse.image_jobs")

BREAKER_PREFIX = "images:"


def breaker_name(provider: str) -> str:
    """The circuit breaker name of an image provider (distinct from a chat provider of the same name)."""
    return BREAKER_PREFIX + provider


class Produced(Protocol):
    """What a provider chain produced for a job (an `ImageResult`, a `VideoResult`)."""

    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def seed(self) -> int | None: ...


class ImageJobRunner:
    """Runs one image job; fails and refunds stale jobs (the sweeper)."""

    label = "image"  # in refund reasons, errors and logs

    def __init__(
        self,
        *,
        images: ImageRepository,
        storage: StorageProvider,
        providers: Callable[[], Awaitable[list[ImageProvider]]],
        credits: Credits,
        breaker: CircuitBreaker | None = None,
        timeout_s: float = 120.0,
        sweep_grace_s: float = 30.0,
        queued_grace_s: float = 3600.0,
        queue: JobQueue | None = None,
        heartbeat_timeout_s: float = 30.0,
        worker: str | None = None,
    ) -> None:
        self._images, self._storage = images, storage
        self._credits = credits
        self.timeout_s = timeout_s
        self._set_failover(providers, breaker)
        self._sweep_grace_s, self._queued_grace_s = sweep_grace_s, queued_grace_s
        # Liveness: a claim beats every third of the timeout; `worker` names this process on it.
        self._queue, self.heartbeat_timeout_s = queue, heartbeat_timeout_s
        self._worker = worker or f"{socket.gethostname()}:{os.getpid()}"

    def _set_failover(self, providers: Callable[[], Awaitable[list[ImageProvider]]],
                      breaker: CircuitBreaker | None) -> None:
        self.failover = image_failover(providers, timeout_s=self.timeout_s, breaker=breaker)

    async def run(self, image_id: str) -> Status | None:
        """Claim and do the job; return the final status (None when another worker had it)."""
        record = await self._images.claim(image_id, worker=self._worker)
        if record is None:
            log.info("image_job_not_claimed", image_id=image_id)
            return None
        try:
            async with Heartbeat(self._images, record, interval_s=self.heartbeat_timeout_s / 3) as heart:
                result = await self._produce(record, heart.dispatching)
                outputs = await self._store(record, result)
        except ClaimLost:  # silent too long: re-queued meanwhile, and another worker may have it
            log.warning("image_job_claim_lost", image_id=image_id)
            return None
        except asyncio.CancelledError:
            # The worker is shutting down and could not finish: hand the record back (queued) at
            # once; the queue keeps the job, so the next worker runs it (no wait for the sweeper).
            await asyncio.shield(self._release(image_id))
            raise
        except AppError as exc:
            await self.fail(record, exc)
            return "failed"
        except Exception:
            log.exception("image_job_crashed", image_id=image_id)
            await self.fail(record, InternalError())
            return "failed"
        if not await self._images.complete(
            image_id, outputs=outputs, provider=result.provider, model=result.model, seed=result.seed,
            extra=self._completion(result),
        ):
            log.warning("image_job_lost_its_claim", image_id=image_id)  # swept meanwhile
            await self._delete_files(outputs)
            return None
        log.info("image_job_completed", image_id=image_id, provider=result.provider, outputs=len(outputs))
        return "completed"

    async def _release(self, image_id: str) -> None:
        try:
            released = await self._images.release(image_id)
        except Exception:
            log.exception("image_job_release_failed", image_id=image_id)  # the sweeper will fail it
            return
        log.warning("image_job_released", image_id=image_id, released=released)

    def _completion(self, result: Any) -> dict[str, Any]:
        """Record fields a completed job sets beyond its outputs (a video's `fps`)."""
        return {}

    async def _produce(self, record: ImageRecord, dispatching: Callable[[], Awaitable[None]]) -> Produced:
        source = (
            await self._storage.get(StoredObject(record.source.key, record.source.url))
            if record.source
            else None
        )
        mask = (
            await self._storage.get(StoredObject(record.mask.key, record.mask.url)) if record.mask else None
        )
        request = ImageRequest(
            prompt=record.prompt,
            aspect_ratio=record.aspect_ratio,
            num_outputs=record.num_outputs,
            negative_prompt=record.negative_prompt,
            seed=record.seed,
            output_format=record.output_format,  # type: ignore[arg-type]
            kind="edit" if record.kind == "edit" else "generate",
            source=source,
            mask=mask,
        )

        def usable(p: ImageProvider) -> bool:
            return (record.providers is None or p.name in record.providers) and (
                record.kind == "generate" or p.supports_edit)

        return await produce(self.failover, request, only=usable, dispatching=dispatching)

    async def _store(self, record: ImageRecord, result: Any) -> list[StoredFile]:
        stored: list[StoredFile] = []
        try:
            for i, file in enumerate(result.files):
                obj = await self._storage.put(
                    file.data,
                    folder=record.user_id,
                    name=f"{record.id}_{i}",
                    content_type=CONTENT_TYPES.get(file.format, "image/png"),
                )
                stored.append(
                    StoredFile(
                        key=obj.key, url=obj.url, width=file.width, height=file.height, format=file.format
                    )
                )
        except BaseException:
            await self._delete_files(stored)
            raise
        return stored

    async def _delete_files(self, files: list[StoredFile]) -> None:
        for file in files:
            try:
                await self._storage.delete(file.key)
            except Exception:
                log.warning("image_file_delete_failed", key=file.key)

    async def fail(self, record: ImageRecord, error: AppError, *, statuses: tuple[str, ...] = ACTIVE,
                   silent_before: datetime | None = None) -> bool:
        """Mark the record failed (if still active, and silent since `silent_before` when given) and
        refund its charge; True when this call failed it."""
        failed = await self._images.fail(record.id, error=problem_of(error), statuses=statuses,
                                         silent_before=silent_before)
        if failed is None:
            return False
        log.warning("image_job_failed", image_id=record.id, code=error.code, detail=error.detail)
        await self.refund(failed)
        return True

    async def refund(self, record: ImageRecord) -> None:
        """Give back the charge of a failed record (the credits service refunds a receipt once)."""
        if record.receipt and not record.refunded:
            await self._credits.refund(
                receipt_from(record.receipt), reason=f"{self.label}_failed:{record.id}",
                request_id=record.request_id,
            )
            await self._images.mark_refunded(record.id)

    async def reap(self) -> dict[str, int]:
        """Jobs whose worker stopped beating for `heartbeat_timeout_s`: re-queued when nothing was
        sent to a provider yet, else failed and refunded once (conditional updates: any number of
        live workers may reap at once)."""
        cutoff = utcnow() - timedelta(seconds=self.heartbeat_timeout_s)
        lost = UpstreamTimeout(f"The {self.label} job stopped: its worker went silent.")
        counts = {"failed": 0, "requeued": 0}
        for record in await self._images.silent(before=cutoff, limit=100):
            if record.dispatched_at is None and self._queue is not None:
                if await self._images.requeue_silent(record.id, before=cutoff) is None:
                    continue  # it beat, finished or was reaped meanwhile
                if await self._queue.redeliver(record.id):
                    counts["requeued"] += 1
                    log.warning("job_requeued_silent_worker", job_id=record.id, worker=record.claimed_by)
                    continue
                counts["failed"] += await self.fail(record, lost, statuses=("queued",))  # the queue lost it
                continue
            if await self.fail(record, lost, statuses=("in_progress",), silent_before=cutoff):
                counts["failed"] += 1
                log.warning("job_failed_silent_worker", job_id=record.id, worker=record.claimed_by)
        return counts

    async def sweep(self) -> dict[str, int]:
        """Fail jobs whose worker died (in progress past the timeout) and finish pending refunds."""
        now = utcnow()
        counts = {"in_progress": 0, "queued": 0, "refunds": 0}
        lost = UpstreamTimeout(f"The {self.label} job did not finish in time (its worker stopped).")
        limits = {"in_progress": self.timeout_s + self._sweep_grace_s, "queued": self._queued_grace_s}
        for status, age in limits.items():
            for record in await self._images.stale(
                status=status, before=now - timedelta(seconds=age), limit=500
            ):
                counts[status] += await self.fail(record, lost, statuses=(status,))
        for record in await self._images.unrefunded_failures(before=now - timedelta(seconds=60), limit=500):
            await self.refund(record)
            counts["refunds"] += 1
        if any(counts.values()):
            log.info("image_sweep_done", **counts)
        return counts


def image_chain_error(failures: Sequence[Failure]) -> AppError:
    """What an image job fails with when no provider produced the image."""
    if not failures:
        return UpstreamError("Every image provider is cooling down after repeated failures; try again soon.")
    if all(f.timed_out for f in failures):
        return UpstreamTimeout("No image provider answered in time.")
    details = [str(f.error.detail) if isinstance(f.error, AppError) else str(f.error) for f in failures]
    return UpstreamError("No image provider could produce this image: " + "; ".join(details))


def image_failover(providers: Callable[[], Awaitable[Sequence[ImageProvider]]], *, timeout_s: float,
                   breaker: CircuitBreaker | None = None) -> Failover[ImageProvider]:
    """The shared failover for image providers: one `timeout_s` budget for the whole chain,
    circuits under `images:<name>`."""
    return Failover(label="image", providers=providers, breaker=breaker, failure_types=(UpstreamError,),
                    is_timeout=lambda exc: isinstance(exc, UpstreamTimeout), per_call_s=timeout_s,
                    budget_s=timeout_s, breaker_name=breaker_name, on_exhausted=image_chain_error)


async def produce(chain: Failover[ImageProvider], request: ImageRequest, *,
                  only: Callable[[ImageProvider], bool] | None = None,
                  dispatching: Callable[[], Awaitable[None]] | None = None) -> ImageResult:
    """The first provider's result, in order, within the chain's budget (each its share of what is left);
    `dispatching` is awaited before each provider call."""
    if not [p for p in await chain.chain() if only is None or only(p)]:
        raise UpstreamError("No image provider is available for this request.")

    async def call(provider: ImageProvider, seconds: float) -> ImageResult:
        if dispatching is not None:
            await dispatching()
        return await (provider.edit if request.kind == "edit" else provider.generate)(request)

    return (await chain.run(call, only=only))[1]


async def failover(providers: Sequence[ImageProvider], request: ImageRequest, *, timeout_s: float,
                   breaker: CircuitBreaker | None = None) -> ImageResult:
    """`produce` over a fixed list of providers."""
    async def fixed() -> Sequence[ImageProvider]:
        return providers

    return await produce(image_failover(fixed, timeout_s=timeout_s, breaker=breaker), request)
