"""The job queue port: enqueue background jobs (arq over Redis: `repositories/queue.py`)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class JobQueue(Protocol):
    """Background jobs by function name; the worker side is `app/worker.py` (its job registry)."""

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None,
                      defer_s: float | None = None, **kwargs: Any) -> str | None:
        """Enqueue `function`; the job id (None when that job id is already queued)."""
        ...

    async def depth(self) -> int:
        """How many jobs wait in the queue."""
        ...
