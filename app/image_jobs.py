"""Media job functions for the arq worker: generate/edit one image or make one video, sweep stale
jobs, expire media.

Plain coroutines over a `JobContext`: `app.jobs` wraps them with its `job` decorator in its job
registry (so this module does not import `app.jobs`).
"""

from __future__ import annotations

from typing import Any

from arq.worker import Retry

from app.wiring.jobs import JobContext
from services.media.jobs import JobNotStarted, MediaJobRunner
from services.media.library import MediaLibrary

# A job whose record could not be claimed (MongoDB did not answer) runs again later, up to the
# worker's `max_tries` (app/worker.py; after that the sweeper fails and refunds its record): after
# JOB_HEARTBEAT_TIMEOUT_S and one round of the reaper (every 5 s at most), so that a claim that took
# effect although its answer was lost has been handed back (re-queued) by then.
REAP_ROUND_S = 5.0


async def generate_image(jobs: JobContext, image_id: str) -> str | None:
    """Claim the image record and run its generation or edit (failover, storage, refund on failure)."""
    return await _run(jobs, jobs.media.image_jobs, image_id)


async def sweep_images(jobs: JobContext) -> dict[str, int]:
    """Fail and refund jobs whose worker died; expire unsaved images past their TTL."""
    return await _sweep(jobs.media.image_jobs, jobs.media.images)


async def generate_video(jobs: JobContext, video_id: str) -> str | None:
    """Claim the video record and run it (failover, storage with a poster, refund on failure)."""
    return await _run(jobs, jobs.media.video_jobs, video_id)


async def sweep_videos(jobs: JobContext) -> dict[str, int]:
    """Fail and refund video jobs whose worker died; expire unsaved videos past their TTL."""
    return await _sweep(jobs.media.video_jobs, jobs.media.videos)


async def _sweep(runner: MediaJobRunner[Any], library: MediaLibrary) -> dict[str, int]:
    counts = await runner.sweep()
    counts["expired"] = await library.expire_due()
    return counts


def not_started_retry_s(jobs: JobContext) -> float:
    """How long after a try that could not claim its record the job runs again."""
    return jobs.settings.job_heartbeat_timeout_s + REAP_ROUND_S


async def _run(jobs: JobContext, runner: MediaJobRunner[Any], job_id: str) -> str | None:
    try:
        return await runner.run(job_id)
    except JobNotStarted as exc:  # nothing was done: the queue keeps the job, for later
        raise Retry(defer=not_started_retry_s(jobs)) from exc
