"""The arq worker: standalone (`python -m app worker`) or inside the web process.

`WorkerRunner` keeps one arq worker running until it is told to stop:
- a worker whose loop dies (Redis restarted or hung) is replaced after a short pause, so
  jobs resume by themselves when Redis is back; jobs it was running go on meanwhile;
- `stop(drain_s)` (SIGTERM) stops taking jobs, lets the running ones finish for up to
  `drain_s`, then cancels the rest: a cancelled image job puts its record back to `queued`
  and arq keeps the job in the queue, so the next worker runs it at once (nothing waits for
  the sweeper).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import Any, cast

import structlog
from arq import cron
from arq.typing import WorkerCoroutine
from arq.worker import Worker, func

from app.jobs import JOB_REGISTRY
from app.startup import lazy_sdks, preload, render_libs
from app.telemetry import configure_telemetry
from app.wiring import Container
from app.wiring.jobs import arq_context

log = structlog.stdlib.get_logger("muse.worker")

RESTART_PAUSE_S = 1.0
REAP_EVERY_MAX_S = 5.0  # how often a live worker looks for jobs whose worker went silent
CANCEL_RETRY_S = 0.5  # a supervision loop still running this long after a cancel is cancelled again
CANCEL_ATTEMPTS = 20


def _coroutine(fn: Callable[..., Awaitable[Any]]) -> WorkerCoroutine:
    """arq's name for a job coroutine (called as `fn(ctx, *args, **kwargs)`)."""
    return cast(WorkerCoroutine, fn)


def build_worker(container: Container, *, handle_signals: bool, burst: bool = False) -> Worker:
    """A worker over the container's Redis, with every job and cron of `JOB_REGISTRY`."""
    settings = container.settings
    return Worker(
        functions=[func(_coroutine(spec.fn), name=spec.name) for spec in JOB_REGISTRY],
        cron_jobs=[cron(_coroutine(spec.fn), name=spec.cron.name,
                        minute=set(spec.cron.minute) if spec.cron.minute is not None else None,
                        unique=spec.cron.unique, run_at_startup=spec.cron.run_at_startup)
                   for spec in JOB_REGISTRY if spec.cron is not None],
        redis_pool=container.platform.redis,
        queue_name=settings.queue_name,
        handle_signals=handle_signals,
        burst=burst,
        ctx=arq_context(container),
        poll_delay=0.05,
        max_jobs=20,
        job_timeout=max(settings.image_timeout_s * 2, settings.video_timeout_s + 60, 300),
        keep_result=3600,
        max_tries=3,
    )


def reap_interval_s(heartbeat_timeout_s: float) -> float:
    """How often a worker reaps: a third of JOB_HEARTBEAT_TIMEOUT_S, at most every 5 s."""
    return min(REAP_EVERY_MAX_S, max(0.2, heartbeat_timeout_s / 3))


def worker_drain_s(container: Container) -> float:
    """How long running jobs may go on after SIGTERM: DRAIN_TIMEOUT_S, else IMAGE_TIMEOUT_S."""
    settings = container.settings
    return settings.drain_timeout_s if settings.drain_timeout_s is not None else settings.image_timeout_s


class WorkerRunner:
    """One supervised arq worker (rebuilt after a crash) with a draining stop."""

    def __init__(self, container: Container, build: Callable[[Container], Worker] | None = None) -> None:
        self._container = container
        self._build = build or (lambda c: build_worker(c, handle_signals=False))
        self._workers: list[Worker] = []
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._reaper: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the supervision loop, and the reaper of silent workers' jobs, in the background."""
        self._task = asyncio.create_task(self._supervise())
        self._reaper = asyncio.create_task(self._reap())

    async def _reap(self) -> None:
        """Every few seconds: fail and refund (or re-queue) the jobs of workers that stopped beating
        (contract §16); every live worker does it, the records' conditional updates decide."""
        media = self._container.media
        every = reap_interval_s(self._container.settings.job_heartbeat_timeout_s)
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every):
                    await self._stopping.wait()
            if self._stopping.is_set():
                return
            for runner in (media.image_jobs, media.video_jobs):
                try:
                    counts = await runner.reap()
                except Exception as exc:  # a store outage: the next round tries again
                    log.warning("job_reap_failed", error=type(exc).__name__)
                    continue
                if any(counts.values()):
                    log.info("jobs_reaped", kind=runner.label, **counts)

    async def _supervise(self) -> None:
        while not self._stopping.is_set():
            worker = self._build(self._container)
            self._workers.append(worker)
            try:
                await worker.async_run()
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    return
                raise
            except Exception as exc:  # Redis went away under the poll loop: start a fresh worker
                log.warning("worker_loop_failed", error=type(exc).__name__, detail=str(exc)[:200])
            worker.allow_pick_jobs = False  # its running jobs go on; a new worker takes new ones
            self._workers = [w for w in self._workers if w is worker or _running(w)]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RESTART_PAUSE_S):
                    await self._stopping.wait()

    def _running_tasks(self) -> list[asyncio.Task]:
        return [t for w in self._workers for t in w.tasks.values() if not t.done()]

    async def stop(self, drain_s: float = 0.0) -> None:
        """Stop taking jobs; wait up to `drain_s` for running ones; cancel (and so re-queue) the rest."""
        self._stopping.set()
        if self._reaper is not None:
            await _cancel_until_done(self._reaper)
        for worker in self._workers:
            worker.allow_pick_jobs = False
        running = self._running_tasks()
        if running and drain_s > 0:
            log.info("worker_draining", running=len(running), drain_s=drain_s)
            await asyncio.wait(running, timeout=drain_s)
        left = self._running_tasks()
        for task in left:
            task.cancel()  # the job hands its record back; arq keeps it in the queue
        if left:
            log.warning("worker_jobs_requeued", count=len(left))
            await asyncio.gather(*left, return_exceptions=True)
        if self._task is not None:
            await _cancel_until_done(self._task)
        for worker in self._workers:
            with contextlib.suppress(Exception):
                await release_worker(worker)
        self._workers.clear()


async def release_worker(worker: Worker) -> None:
    """Be done with a worker whose loop has ended, keeping the process's Redis client open.

    Not arq's `Worker.close`: the worker runs on the process's shared client, and closing it
    disconnects every connection of that client's pool, cutting the commands other tasks have in
    flight (each cut one opens the Redis guard's cool-down: the process then fails every Redis
    command for a moment)."""
    await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    await worker.pool.delete(worker.health_check_key)


async def _cancel_until_done(task: asyncio.Task[None]) -> None:
    """Cancel `task` and wait for it, cancelling again while it goes on.

    One cancellation is not always enough: a library awaited deep inside arq's poll loop can
    swallow it (seen here: a stopped worker kept polling until Redis went away, so SIGTERM
    never ended the process). Bounded: after CANCEL_ATTEMPTS the stop goes on without it.
    """
    for _ in range(CANCEL_ATTEMPTS):
        task.cancel()
        done, _pending = await asyncio.wait({task}, timeout=CANCEL_RETRY_S)
        if done:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.result()
            return
    log.error("worker_loop_not_stopping", attempts=CANCEL_ATTEMPTS)


def _running(worker: Worker) -> bool:
    return any(not t.done() for t in worker.tasks.values())


async def run_worker(container: Container) -> None:
    """Run a standalone worker until SIGTERM/SIGINT, then drain (contract §16)."""
    configure_telemetry(container.settings)  # before connecting: instruments PyMongo and Redis
    await container.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = WorkerRunner(container)
    runner.start()
    log.info("worker_started", queue=container.settings.queue_name)
    # The first job of each provider would otherwise wait for its SDK or render libraries (PyAV's
    # first import took 4.8 s on a cold page cache here); load them in a thread meanwhile.
    media = [*container.media.image_providers, *container.media.video_providers]
    preload(lazy_sdks([*container.chat.providers, *media]) + render_libs(media))  # asyncio.run joins it
    try:
        await stop.wait()
        log.info("worker_stopping", drain_s=worker_drain_s(container))
        await runner.stop(worker_drain_s(container))
    finally:
        await container.stop()
        log.info("worker_stopped")
