"""Media job functions for the arq worker: generate/edit one image or make one video, sweep stale
jobs, expire media.

Plain coroutines over a `JobContext`: `app.jobs` wraps them with its `job` decorator in its job
registry (so this module does not import `app.jobs`).
"""

from __future__ import annotations

from typing import Any

from app.wiring.jobs import JobContext
from services.media.jobs import MediaJobRunner
from services.media.library import MediaLibrary


async def generate_image(jobs: JobContext, image_id: str) -> str | None:
    """Claim the image record and run its generation or edit (failover, storage, refund on failure)."""
    return await jobs.media.image_jobs.run(image_id)


async def sweep_images(jobs: JobContext) -> dict[str, int]:
    """Fail and refund jobs whose worker died; expire unsaved images past their TTL."""
    return await _sweep(jobs.media.image_jobs, jobs.media.images)


async def generate_video(jobs: JobContext, video_id: str) -> str | None:
    """Claim the video record and run it (failover, storage with a poster, refund on failure)."""
    return await jobs.media.video_jobs.run(video_id)


async def sweep_videos(jobs: JobContext) -> dict[str, int]:
    """Fail and refund video jobs whose worker died; expire unsaved videos past their TTL."""
    return await _sweep(jobs.media.video_jobs, jobs.media.videos)


async def _sweep(runner: MediaJobRunner[Any], library: MediaLibrary) -> dict[str, int]:
    counts = await runner.sweep()
    counts["expired"] = await library.expire_due()
    return counts
