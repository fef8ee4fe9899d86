"""The job queue port: enqueue background jobs (arq over Redis: `repositories/queue.py`)."""

from __future__ import annotations

from typing import Any, Final, Protocol, runtime_checkable


class JobName:
    """Every background job's name, written once: `app/jobs.py` registers a function under
    each, and enqueue calls pass these constants (a test checks both sides agree)."""

    HOUSEKEEPING: Final = "housekeeping"
    GENERATE_IMAGE: Final = "generate_image"
    SWEEP_IMAGES: Final = "sweep_images"
    GENERATE_VIDEO: Final = "generate_video"
    SWEEP_VIDEOS: Final = "sweep_videos"
    RECONCILE_CREDITS: Final = "reconcile_credits"
    RECONCILE_PAYMENTS: Final = "reconcile_payments"
    RECONCILE_SUBSCRIPTIONS: Final = "reconcile_subscriptions"
    EXPORT_DATA: Final = "export_data"
    SWEEP_EXPORTS: Final = "sweep_exports"


@runtime_checkable
class JobQueue(Protocol):
    """Background jobs by name (a `JobName`); the worker side is the job registry in `app/jobs.py`."""

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None,
                      defer_s: float | None = None, **kwargs: Any) -> str | None:
        """Enqueue `function`; the job id (None when that job id is already queued)."""
        ...

    async def depth(self) -> int:
        """How many jobs wait in the queue."""
        ...

    async def redeliver(self, job_id: str) -> bool:
        """Make a job whose worker died available to a live worker at once; False when the queue no
        longer holds it."""
        ...
