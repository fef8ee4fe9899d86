"""Worker liveness (contract §16): a running media job renews a heartbeat on its record.

While a job runs, `Heartbeat` writes `heartbeat_at` every `interval_s` (a third of
`JOB_HEARTBEAT_TIMEOUT_S`), conditional on the claim it holds (`started_at`), and notes the first
provider call (`dispatched_at`). A job whose worker went silent for the timeout is failed and
refunded once by any live worker, or re-queued when nothing was sent to a provider yet
(`ImageJobRunner.reap`). A worker that only stalled and finds its claim gone stops before calling
a provider (`ClaimLost`), so a re-queued job is never sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

import structlog

from services.media.image_models import ImageRecord
from services.media.ports.records import ImageRepository

log = structlog.stdlib.get_logger("muse.heartbeat")


class ClaimLost(Exception):
    """The job's record was reaped or claimed again while this worker was silent."""


class Heartbeat:
    """Renews one claimed record's heartbeat in the background until the block ends."""

    def __init__(self, images: ImageRepository, record: ImageRecord, *, interval_s: float) -> None:
        self._images, self._record, self._interval_s = images, record, interval_s
        self._task: asyncio.Task[None] | None = None
        self._dispatched = False

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._beat())
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def dispatching(self) -> None:
        """Before a provider call: note that the job sent something (once); ClaimLost when the
        claim is no longer this worker's (it was re-queued while the worker was silent)."""
        if self._dispatched:
            return
        if not await self._images.beat(self._record.id, started_at=self._record.started_at, dispatched=True):
            raise ClaimLost(self._record.id)
        self._dispatched = True

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                alive = await self._images.beat(self._record.id, started_at=self._record.started_at)
            except Exception as exc:  # a store hiccup: the next beat tries again
                log.warning("job_heartbeat_failed", job_id=self._record.id, error=type(exc).__name__)
                continue
            if not alive:
                log.warning("job_heartbeat_claim_lost", job_id=self._record.id)
                return
