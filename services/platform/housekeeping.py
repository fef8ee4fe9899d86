"""Periodic housekeeping: runs registered maintenance tasks and records each run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog

from services.platform.ports.jobs import JobRunRepository

log = structlog.stdlib.get_logger("muse.housekeeping")

Task = Callable[[], Awaitable[int]]


class HousekeepingService:
    """Runs each task (a coroutine returning how many things it cleaned), isolating failures."""

    def __init__(self, runs: JobRunRepository, tasks: dict[str, Task] | None = None,
                 *, keep_runs: timedelta = timedelta(days=30)) -> None:
        self._runs = runs
        self._tasks: dict[str, Task] = {"job_runs": lambda: runs.delete_older_than(keep_runs)}
        self._tasks.update(tasks or {})

    async def run(self, *, request_id: str | None = None) -> dict[str, Any]:
        """Run every task once; return counts per task and the failures."""
        run_id = await self._runs.create(name="housekeeping", request_id=request_id)
        result: dict[str, Any] = {"cleaned": {}, "failed": []}
        for name, task in self._tasks.items():
            try:
                result["cleaned"][name] = await task()
            except Exception:
                log.exception("housekeeping_task_failed", task=name)
                result["failed"].append(name)
        await self._runs.finish(run_id, ok=not result["failed"], result=result)
        log.info("housekeeping_done", run_id=run_id, **result)
        return {"run_id": run_id, **result}
