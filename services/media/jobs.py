"""The media job core: one runner for every kind of media job (images, videos).

A kind supplies its `MediaWork`: how to produce a result for a record (its provider chain, with
failover) and how to store that result's files. The core does the rest, the same for every kind:

- claim: several workers may run the same queue; a job first claims its record with a
  conditional update (queued → in_progress), and only the claimer works on it;
- run the kind's work, store its files, complete the record (files deleted again when the
  claim was lost meanwhile);
- fail and refund once (`JobSettlement`): failing a record is a conditional update, and only the
  caller that made the transition refunds, so a charge is refunded exactly once (the credits
  service refuses a second refund of a receipt as well). The web side settles a job whose
  enqueue failed with the same `JobSettlement`, without a runner;
- release on shutdown: a cancelled job hands its record back (queued) for the next worker;
- liveness: a claim beats (`services/media/heartbeat.py`); `reap` fails and refunds once, or
  re-queues when nothing was sent to a provider, the jobs whose worker went silent;
- sweep: fail and refund jobs whose worker died (the backstop), finish pending refunds.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import structlog

from services.credits.ports import NO_METER, Attribution, Credits, Meter
from services.media.heartbeat import ClaimLost, Heartbeat
from services.media.image_models import (
    ACTIVE,
    ImageRecord,
    Status,
    problem_of,
    receipt_from,
)
from services.media.ports.jobs import MediaWork, R
from services.media.ports.records import ImageRepository
from services.platform.clock import utcnow
from services.platform.errors import AppError, InternalError, UpstreamError, UpstreamTimeout
from services.platform.failover import Failover, Failure
from services.platform.ports.breaker import CircuitBreaker
from services.platform.ports.named import Named
from services.platform.ports.queue import JobQueue

P = TypeVar("P", bound=Named)

log = structlog.stdlib.get_logger("muse.image_jobs")  # log lines name the kind: image_job_*, video_job_*


class JobNotStarted(Exception):
    """A job's record could not be claimed (its store did not answer): nothing was done and the record
    is still queued, so the queue must run the job again later (failing it would leave the record
    queued, the credits held, until the sweeper's `queued_grace_s`: an hour; `make soak` found them).
    A claim that took effect although its answer was lost looks like a silent worker's: `reap`
    re-queues it (nothing was sent to a provider), so run it again after that."""







class JobSettlement:
    """Fails a media job's record (if still active) and refunds its charge, exactly once."""

    def __init__(self, records: ImageRepository, credits: Credits, *, label: str) -> None:
        self._records, self._credits, self.label = records, credits, label

    async def fail(self, record: ImageRecord, error: AppError, *,
                   statuses: tuple[str, ...] = ACTIVE, silent_before: datetime | None = None) -> bool:
        """Mark the record failed (if still in `statuses`, and silent since `silent_before` when given)
        and refund its charge; True when this call failed it."""
        failed = await self._records.fail(record.id, error=problem_of(error), statuses=statuses,
                                          silent_before=silent_before)
        if failed is None:
            return False
        log.warning(f"{self.label}_job_failed", image_id=record.id, code=error.code, detail=error.detail)
        await self.refund(failed)
        return True

    async def refund(self, record: ImageRecord) -> None:
        """Give back the charge of a failed record (the credits service refunds a receipt once)."""
        if record.receipt and not record.refunded:
            reason = f"{self.label}_failed:{record.id}"
            receipt = receipt_from(record.receipt)
            await self._credits.refund(receipt, reason=reason, request_id=record.request_id)
            await self._records.mark_refunded(record.id)


class MediaJobRunner(Generic[R]):
    """Runs one media job of a kind (its `MediaWork`); fails and refunds stale jobs (the sweeper)."""

    def __init__(self, work: MediaWork[R], *, records: ImageRepository, credits: Credits,
                 timeout_s: float = 120.0, sweep_grace_s: float = 30.0,
                 queued_grace_s: float = 3600.0, queue: JobQueue | None = None,
                 heartbeat_timeout_s: float = 30.0, worker: str | None = None,
                 meter: Meter = NO_METER) -> None:
        self.work, self._records = work, records
        self._meter = meter  # provider usage and cost (contract §19)
        self.settlement = JobSettlement(records, credits, label=work.label)
        self.timeout_s = timeout_s
        self._sweep_grace_s, self._queued_grace_s = sweep_grace_s, queued_grace_s
        # Liveness: a claim beats every third of the timeout; `worker` names this process on it.
        self._queue, self.heartbeat_timeout_s = queue, heartbeat_timeout_s
        self._worker = worker or f"{socket.gethostname()}:{os.getpid()}"

    @property
    def label(self) -> str:
        return self.work.label

    async def run(self, job_id: str) -> Status | None:
        """Claim and do the job; return the final status (None when another worker had it)."""
        label = self.label
        try:
            record = await self._records.claim(job_id, worker=self._worker)
        except Exception as exc:
            log.warning(f"{label}_job_not_started", image_id=job_id, error=type(exc).__name__)
            raise JobNotStarted(f"The {label} job {job_id} was not claimed: {type(exc).__name__}") from exc
        if record is None:
            log.info(f"{label}_job_not_claimed", image_id=job_id)
            return None
        try:
            async with Heartbeat(self._records, record, interval_s=self.heartbeat_timeout_s / 3) as heart:
                result = await self.work.produce(record, heart.dispatching)
                outputs = await self.work.store(record, result)
        except ClaimLost:  # silent too long: re-queued meanwhile, and another worker may have it
            log.warning(f"{label}_job_claim_lost", image_id=job_id)
            return None
        except asyncio.CancelledError:
            # The worker is shutting down and could not finish: hand the record back (queued) at
            # once; the queue keeps the job, so the next worker runs it (no wait for the sweeper).
            await asyncio.shield(self._release(job_id))
            raise
        except AppError as exc:
            await self.fail(record, exc)
            return "failed"
        except Exception:
            log.exception(f"{label}_job_crashed", image_id=job_id)
            await self.fail(record, InternalError())
            return "failed"
        if not await self._records.complete(job_id, outputs=outputs, provider=result.provider,
                                            model=result.model, seed=result.seed,
                                            extra=self.work.completion(result)):
            log.warning(f"{label}_job_lost_its_claim", image_id=job_id)  # swept meanwhile
            await self.work.delete_files(outputs)
            return None
        log.info(f"{label}_job_completed", image_id=job_id, provider=result.provider, outputs=len(outputs))
        kind, usage = self.work.metered(record, result)
        await self._meter.record(Attribution(user_id=record.user_id, kind=kind, model=record.model, plan=None,
                                             ref=record.id), usage, wait=True)  # counted when the job ends
        return "completed"

    async def _release(self, job_id: str) -> None:
        try:
            released = await self._records.release(job_id)
        except Exception:
            log.exception(f"{self.label}_job_release_failed", image_id=job_id)  # the sweeper will fail it
            return
        log.warning(f"{self.label}_job_released", image_id=job_id, released=released)

    async def fail(self, record: ImageRecord, error: AppError, *,
                   statuses: tuple[str, ...] = ACTIVE) -> bool:
        """Mark the record failed (if still active) and refund its charge; True when this call failed it."""
        return await self.settlement.fail(record, error, statuses=statuses)

    async def reap(self) -> dict[str, int]:
        """Jobs whose worker stopped beating for `heartbeat_timeout_s`: re-queued when nothing was
        sent to a provider yet, else failed and refunded once (conditional updates: any number of
        live workers may reap at once)."""
        cutoff = utcnow() - timedelta(seconds=self.heartbeat_timeout_s)
        lost = UpstreamTimeout(f"The {self.label} job stopped: its worker went silent.")
        counts = {"failed": 0, "requeued": 0}
        for record in await self._records.silent(before=cutoff, limit=100):
            if record.dispatched_at is None and self._queue is not None:
                if await self._records.requeue_silent(record.id, before=cutoff) is None:
                    continue  # it beat, finished or was reaped meanwhile
                if await self._queue.redeliver(record.id):
                    counts["requeued"] += 1
                    log.warning("job_requeued_silent_worker", job_id=record.id, worker=record.claimed_by)
                    continue
                counts["failed"] += await self.fail(record, lost, statuses=("queued",))  # the queue lost it
                continue
            if await self.settlement.fail(record, lost, statuses=("in_progress",), silent_before=cutoff):
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
            before = now - timedelta(seconds=age)
            for record in await self._records.stale(status=status, before=before, limit=500):
                counts[status] += await self.fail(record, lost, statuses=(status,))
        for record in await self._records.unrefunded_failures(before=now - timedelta(seconds=60), limit=500):
            await self.settlement.refund(record)
            counts["refunds"] += 1
        if any(counts.values()):
            log.info(f"{self.label}_sweep_done", **counts)
        return counts


def chain_error(noun: str, failures: Sequence[Failure]) -> AppError:
    """What a media job fails with when no provider of its kind (`noun`: image, video) produced it."""
    if not failures:
        return UpstreamError(f"Every {noun} provider is cooling down after repeated failures; "
                             "try again soon.")
    if all(f.timed_out for f in failures):
        return UpstreamTimeout(f"No {noun} provider answered in time.")
    details = [str(f.error.detail) if isinstance(f.error, AppError) else str(f.error) for f in failures]
    return UpstreamError(f"No {noun} provider could produce this {noun}: " + "; ".join(details))


def media_failover(noun: str, providers: Callable[[], Awaitable[Sequence[P]]], *, timeout_s: float,
                   breaker: CircuitBreaker | None, breaker_name: Callable[[str], str]) -> Failover[P]:
    """The failover of a kind's providers: one `timeout_s` budget for the whole chain, circuits under
    `breaker_name(<provider>)`."""
    return Failover(label=noun, providers=providers, breaker=breaker, failure_types=(UpstreamError,),
                    is_timeout=lambda exc: isinstance(exc, UpstreamTimeout), per_call_s=timeout_s,
                    budget_s=timeout_s, breaker_name=breaker_name,
                    on_exhausted=functools.partial(chain_error, noun))
