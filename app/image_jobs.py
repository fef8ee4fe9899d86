"""Media job functions for the arq worker: generate/edit one image or make one video, sweep stale
jobs, expire media.

Plain coroutines: `app.jobs` wraps them with its `job` decorator in its job registry
(so this module does not import `app.jobs`).
"""

from __future__ import annotations

from typing import Any


async def generate_image(ctx: dict[str, Any], image_id: str) -> str | None:
    """Claim the image record and run its generation or edit (failover, storage, refund on failure)."""
    return await ctx["container"].media.image_jobs.run(image_id)


async def sweep_images(ctx: dict[str, Any]) -> dict[str, int]:
    """Fail and refund jobs whose worker died; expire unsaved images past their TTL."""
    container = ctx["container"]
    counts = await container.media.image_jobs.sweep()
    counts["expired"] = await container.media.images.expire_due()
    return counts


async def generate_video(ctx: dict[str, Any], video_id: str) -> str | None:
    """Claim the video record and run it (failover, storage with a poster, refund on failure)."""
    return await ctx["container"].media.video_jobs.run(video_id)


async def sweep_videos(ctx: dict[str, Any]) -> dict[str, int]:
    """Fail and refund video jobs whose worker died; expire unsaved videos past their TTL."""
    container = ctx["container"]
    counts = await container.media.video_jobs.sweep()
    counts["expired"] = await container.media.videos.expire_due()
    return counts
