"""The job events port: status changes of media jobs pushed to every web process (contract §15).

A publisher (whichever process changed a job record: a worker, a web process) calls
`publish`; every process that `subscribe`d to that job gets the payload. Redis pub/sub
implements it (`repositories/job_events.py`). Payloads are JSON text chosen by the caller.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Final, Protocol

RESYNC: Final = "__resync__"  # delivered instead of a payload when events may have been missed


class Subscription(Protocol):
    """Payloads published for one job after the subscription started, in order."""

    async def next(self, timeout_s: float) -> str | None:
        """The next payload (or `RESYNC` after a lost connection: re-read the record); None on timeout."""
        ...


class JobEvents(Protocol):
    """Publish a job's changes; subscribe to one job's changes."""

    async def publish(self, topic: str, job_id: str, payload: str) -> None:
        """Send `payload` to every subscriber of (`topic`, `job_id`), in every process, after the
        payloads this process published before (it may return before delivery)."""
        ...

    def subscribe(self, topic: str, job_id: str) -> AbstractAsyncContextManager[Subscription]:
        """Within the block, every later `publish` for the job reaches the subscription."""
        ...
