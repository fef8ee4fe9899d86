"""Records of periodic job runs (`repositories/job_runs.py`); the queue itself is `ports/queue.py`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class JobRunRepository(Protocol):
    async def create(self, *, name: str, request_id: str | None) -> str: ...
    async def finish(self, run_id: str, *, ok: bool, result: dict[str, Any]) -> None: ...
    async def delete_older_than(self, age: timedelta) -> int: ...


@runtime_checkable
class Housekeeping(Protocol):
    """The periodic maintenance tasks (`services/platform/housekeeping.py`), run by the housekeeping job."""

    async def run(self, *, request_id: str | None = None) -> dict[str, Any]: ...
