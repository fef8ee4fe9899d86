"""The arq worker: standalone (`python -m app worker`) or inside the web process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from arq import cron
from arq.typing import WorkerCoroutine
from arq.worker import Worker, func

from app.bootstrap import Container
from app.jobs import (
    JOBS,
    housekeeping_cron,
    reconcile_credits_cron,
    reconcile_payments_cron,
    sweep_images_cron,
)
from app.telemetry import configure_telemetry


def _coroutine(fn: Callable[..., Awaitable[Any]]) -> WorkerCoroutine:
    """arq's name for a job coroutine (called as `fn(ctx, *args, **kwargs)`)."""
    return cast(WorkerCoroutine, fn)


def build_worker(container: Container, *, handle_signals: bool, burst: bool = False) -> Worker:
    """A worker over the container's Redis, with every job and cron registered."""
    settings = container.settings
    return Worker(
        functions=[func(_coroutine(fn), name=fn.__name__) for fn in JOBS],
        cron_jobs=[cron(_coroutine(housekeeping_cron), name="cron:housekeeping", minute={0, 15, 30, 45},
                        unique=True, run_at_startup=False),
                   cron(_coroutine(sweep_images_cron), name="cron:images", unique=True, run_at_startup=False),
                   cron(_coroutine(reconcile_credits_cron), name="cron:credits_reconcile",
                        minute=set(range(2, 60, 5)),
                        unique=True, run_at_startup=False),
                   cron(_coroutine(reconcile_payments_cron), name="cron:payments_reconcile",
                        minute=set(range(4, 60, 5)),
                        unique=True, run_at_startup=False)],
        redis_pool=container.redis,
        queue_name=settings.queue_name,
        handle_signals=handle_signals,
        burst=burst,
        ctx={"container": container},
        poll_delay=0.05,
        max_jobs=20,
        job_timeout=max(settings.image_timeout_s * 2, 300),
        keep_result=3600,
        max_tries=3,
    )


async def run_worker(container: Container) -> None:
    """Run a standalone worker until it is signalled to stop."""
    configure_telemetry(container.settings)  # before connecting: instruments PyMongo and Redis
    await container.start()
    worker = build_worker(container, handle_signals=True)
    try:
        await worker.async_run()
    finally:
        await worker.close()
        await container.stop()
