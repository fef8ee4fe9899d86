"""Background job functions run by the arq worker.

Each job is wrapped by `job`, which binds the request ID that enqueued it
(and the job id) to the log context, so its log lines carry them; continues the
enqueuing request's trace in a `job <name>` span (when tracing is on); and counts
the job in `muse_jobs_total{kind=<name>, outcome}`: `error` when it raised,
`failed` when it returned the status "failed" (an image job that failed and
was refunded), else `success`.

A job function takes the worker's `JobContext` (app/wiring/jobs.py: the typed parts of the
domains that have jobs) and the job's arguments; `job` reads the context from arq's `ctx`.

`JOB_REGISTRY` is the one list of jobs: each `JobSpec` names a job by its `JobName`
(`services/platform/ports/queue.py`, the names enqueue calls use), its wrapped function and its
cron schedule, if any. `app/worker.py` builds the arq functions and cron jobs from it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from arq.worker import Retry
from opentelemetry import propagate, trace

from app.credit_jobs import reconcile_credits as _reconcile_credits
from app.image_jobs import generate_image as _generate_image
from app.image_jobs import generate_video as _generate_video
from app.image_jobs import sweep_images as _sweep_images
from app.image_jobs import sweep_videos as _sweep_videos
from app.payment_jobs import reconcile_payments as _reconcile_payments
from app.payment_jobs import reconcile_subscriptions as _reconcile_subscriptions
from app.wiring.jobs import JobContext, context_of
from repositories.queue import REQUEST_ID_KWARG, TRACE_KWARG
from services.platform.ports.metrics import JobOutcome
from services.platform.ports.queue import JobName

log = structlog.stdlib.get_logger("muse.jobs")
tracer = trace.get_tracer("muse.jobs")

JobFn = Callable[..., Awaitable[Any]]  # arq calls it as (ctx, *args, **kwargs)


def job(fn: Callable[..., Awaitable[Any]]) -> JobFn:
    """Call `fn(job_context, *args)`; bind the originating request ID to the job's logs, log start and end."""

    @functools.wraps(fn)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        context = context_of(ctx)
        request_id = kwargs.pop(REQUEST_ID_KWARG, None)
        carrier = kwargs.pop(TRACE_KWARG, None)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            request_id=request_id, job=fn.__name__, job_id=ctx.get("job_id"), job_try=ctx.get("job_try"))
        metrics = context.platform.metrics
        parent = propagate.extract(carrier) if carrier else None
        with tracer.start_as_current_span(
                f"job {fn.__name__}", context=parent, kind=trace.SpanKind.CONSUMER,
                attributes={"messaging.system": "arq", "messaging.operation": "process",
                            "muse.job.id": str(ctx.get("job_id")), "muse.request_id": request_id or ""}):
            started = time.perf_counter()
            log.info("job_started")
            try:
                result = await fn(context, *args, **kwargs)
            except Retry as retry:  # nothing was done; arq runs the job again later (up to max_tries)
                metrics.job(fn.__name__, "error")
                log.warning("job_retried", defer_s=retry.defer_score and retry.defer_score / 1000,
                            cause=type(retry.__cause__).__name__ if retry.__cause__ else None)
                raise
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
async def export_data(jobs: JobContext, export_id: str) -> str:
    """Write one data export's zip archive (contract §20)."""
    return await jobs.admin.export.run(export_id)


@job
async def sweep_exports(jobs: JobContext) -> int:
    """Delete data export archives past their 24 h."""
    return await jobs.admin.export.sweep()


@job
async def housekeeping(jobs: JobContext) -> dict[str, Any]:
    """Run the periodic maintenance tasks."""
    rid = structlog.contextvars.get_contextvars().get("request_id")
    return await jobs.platform.housekeeping.run(request_id=rid)


# The job registry: every job the worker runs, declared once. The worker builds its arq
# functions and cron jobs from it; enqueue calls name jobs by the same `JobName` constants.

@dataclass(frozen=True)
class Cron:
    """When arq runs a job on its own: a cron job `name`, at `minute` (None: every minute)."""

    name: str
    minute: frozenset[int] | None = None
    unique: bool = True
    run_at_startup: bool = False


@dataclass(frozen=True)
class JobSpec:
    """One registered job: its `JobName`, its (wrapped) function, its schedule if any."""

    name: str
    fn: JobFn
    cron: Cron | None = None


generate_image = job(_generate_image)
sweep_images = job(_sweep_images)
generate_video = job(_generate_video)
sweep_videos = job(_sweep_videos)
reconcile_credits = job(_reconcile_credits)
reconcile_payments = job(_reconcile_payments)
reconcile_subscriptions = job(_reconcile_subscriptions)

JOB_REGISTRY: tuple[JobSpec, ...] = (
    JobSpec(JobName.HOUSEKEEPING, housekeeping,
            Cron("cron:housekeeping", minute=frozenset({0, 15, 30, 45}))),
    JobSpec(JobName.GENERATE_IMAGE, generate_image),
    JobSpec(JobName.SWEEP_IMAGES, sweep_images, Cron("cron:images")),
    JobSpec(JobName.GENERATE_VIDEO, generate_video),
    JobSpec(JobName.SWEEP_VIDEOS, sweep_videos, Cron("cron:videos")),
    JobSpec(JobName.RECONCILE_CREDITS, reconcile_credits,
            Cron("cron:credits_reconcile", minute=frozenset(range(2, 60, 5)))),
    JobSpec(JobName.RECONCILE_PAYMENTS, reconcile_payments,
            Cron("cron:payments_reconcile", minute=frozenset(range(4, 60, 5)))),
    JobSpec(JobName.RECONCILE_SUBSCRIPTIONS, reconcile_subscriptions,
            Cron("cron:subscriptions_reconcile", minute=frozenset({7, 37}))),
    JobSpec(JobName.EXPORT_DATA, export_data),
    JobSpec(JobName.SWEEP_EXPORTS, sweep_exports,
            Cron("cron:exports", minute=frozenset(range(9, 60, 10)))),
)
