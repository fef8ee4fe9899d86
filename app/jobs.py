"""Background job functions run by the arq worker.

Each job is wrapped by `job`, which binds the request ID that enqueued it
(and the job id) to the log context, so its log lines carry them; continues the
enqueuing request's trace in a `job <name>` span (when tracing is on); and counts
the job in `muse_jobs_total{kind=<name>, outcome}`: `error` when it raised,
`failed` when it returned the status "failed" (an image job that failed and
was refunded), else `success`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from opentelemetry import propagate, trace

from repositories.queue import REQUEST_ID_KWARG, TRACE_KWARG
from services.ports.metrics import NO_METRICS, JobOutcome

log = structlog.stdlib.get_logger("muse.jobs")
tracer = trace.get_tracer("muse.jobs")

JobFn = Callable[..., Awaitable[Any]]  # arq calls it as (ctx, *args, **kwargs)


def job(fn: JobFn) -> JobFn:
    """Bind the originating request ID to the job's logs and log start and end."""

    @functools.wraps(fn)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        request_id = kwargs.pop(REQUEST_ID_KWARG, None)
        carrier = kwargs.pop(TRACE_KWARG, None)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            request_id=request_id, job=fn.__name__, job_id=ctx.get("job_id"), job_try=ctx.get("job_try"))
        metrics = getattr(ctx.get("container"), "metrics", NO_METRICS)
        parent = propagate.extract(carrier) if carrier else None
        with tracer.start_as_current_span(
                f"job {fn.__name__}", context=parent, kind=trace.SpanKind.CONSUMER,
                attributes={"messaging.system": "arq", "messaging.operation": "process",
                            "muse.job.id": str(ctx.get("job_id")), "muse.request_id": request_id or ""}):
            started = time.perf_counter()
            log.info("job_started")
            try:
                result = await fn(ctx, *args, **kwargs)
            except Exception:
                metrics.job(fn.__name__, "error")
                log.exception("job_failed", duration_ms=round((time.perf_counter() - started) * 1000, 2))
                raise
            metrics.job(fn.__name__, _outcome(result))
            log.info("job_finished", duration_ms=round((time.perf_counter() - started) * 1000, 2))
            return result

    return run


def _outcome(result: Any) -> JobOutcome:
    return "failed" if result == "failed" else "success"


@job
async def housekeeping(ctx: dict[str, Any]) -> dict[str, Any]:
    """Run the periodic maintenance tasks."""
    rid = structlog.contextvars.get_contextvars().get("request_id")
    return await ctx["container"].housekeeping.run(request_id=rid)


async def housekeeping_cron(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron entry: housekeeping with no originating request."""
    return await housekeeping(ctx)


JOBS: list[JobFn] = [housekeeping]

# Feature job modules (plain coroutines, wrapped here).
from app.image_jobs import IMAGE_JOBS  # noqa: E402

JOBS.extend(job(fn) for fn in IMAGE_JOBS)
sweep_images_cron = next(fn for fn in JOBS if fn.__name__ == "sweep_images")

from app.credit_jobs import CREDIT_JOBS  # noqa: E402

JOBS.extend(job(fn) for fn in CREDIT_JOBS)
reconcile_credits_cron = next(fn for fn in JOBS if fn.__name__ == "reconcile_credits")

from app.payment_jobs import PAYMENT_JOBS  # noqa: E402

JOBS.extend(job(fn) for fn in PAYMENT_JOBS)
reconcile_payments_cron = next(fn for fn in JOBS if fn.__name__ == "reconcile_payments")
