"""The arq job queue in Redis. Enqueued jobs carry the current request ID."""

from __future__ import annotations

from typing import Any

import structlog
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from opentelemetry import propagate

REQUEST_ID_KWARG = "muse_request_id"
TRACE_KWARG = "muse_trace"  # W3C trace context (traceparent) of the enqueuing span, when tracing is on


class ArqJobQueue:
    """Enqueue background jobs; the worker side lives in `app.worker`."""

    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self._redis, self.queue_name = redis, queue_name

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None,
                      defer_s: float | None = None, **kwargs: Any) -> str | None:
        """Enqueue `function`; return the job id (None when that job id is already queued)."""
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if carrier:
            kwargs[TRACE_KWARG] = carrier
        job = await self._redis.enqueue_job(
            function, *args, _job_id=job_id, _queue_name=self.queue_name, _defer_by=defer_s,
            **{REQUEST_ID_KWARG: request_id}, **kwargs,
        )
        return job.job_id if job else None

    async def depth(self) -> int:
        """How many jobs wait in the queue."""
        return int(await self._redis.zcard(self.queue_name))

    async def redeliver(self, job_id: str) -> bool:
        """Drop the in-progress mark a dead worker left on `job_id` (arq would keep it for the job
        timeout), so the next poll of a live worker runs the job; False when it is not queued."""
        await self._redis.delete(in_progress_key_prefix + job_id)
        return await self._redis.zscore(self.queue_name, job_id) is not None
