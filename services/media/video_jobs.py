"""Video jobs: what the media job core (services/media/jobs.py: claim, complete, fail and refund
once, release, sweep) runs for a video: `VideoWork` asks the video providers with failover (its
own circuits, `videos:<name>`) and stores each MP4 with its poster.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog

from services.media.image_models import ImageRecord, StoredFile
from services.media.jobs import MediaJobRunner, media_failover
from services.media.ports.storage import StorageProvider, StoredObject
from services.media.ports.videos import VideoProvider, VideoRequest, VideoResult, video_breaker_name
from services.platform.errors import UpstreamError
from services.platform.failover import Failover
from services.platform.ports.breaker import CircuitBreaker

log = structlog.stdlib.get_logger("muse.video_jobs")

def video_failover(providers: Callable[[], Awaitable[Sequence[VideoProvider]]], *, timeout_s: float,
                   breaker: CircuitBreaker | None = None) -> Failover[VideoProvider]:
    """The shared failover for video providers (circuits under `videos:<name>`)."""
    return media_failover("video", providers, timeout_s=timeout_s, breaker=breaker,
                          breaker_name=video_breaker_name)


class VideoWork:
    """Video jobs for the job core (services/media/jobs.py): ask the video providers with failover
    (circuits under `videos:<name>`), store each MP4 with its poster."""

    label = "video"

    def __init__(self, *, storage: StorageProvider, providers: Callable[[], Awaitable[list[VideoProvider]]],
                 breaker: CircuitBreaker | None = None, timeout_s: float = 120.0) -> None:
        self._storage = storage
        self.video_chain = video_failover(providers, timeout_s=timeout_s, breaker=breaker)

    def completion(self, result: VideoResult) -> dict[str, Any]:
        return {"fps": result.files[0].fps} if result.files else {}

    async def produce(self, record: ImageRecord, dispatching: Callable[[], Awaitable[None]]) -> VideoResult:
        source = (await self._storage.get(StoredObject(record.source.key, record.source.url))
                  if record.source else None)
        request = VideoRequest(prompt=record.prompt, aspect_ratio=record.aspect_ratio,
                               duration_s=int(record.duration_s or 5),
                               kind="image_to_video" if record.kind == "image_to_video" else "text_to_video",
                               source=source, seed=record.seed)

        def usable(p: VideoProvider) -> bool:
            return (record.providers is None or p.name in record.providers) and (
                request.source is None or p.supports_image)

        if not [p for p in await self.video_chain.chain() if usable(p)]:
            raise UpstreamError("No video provider is available for this request.")

        async def call(provider: VideoProvider, seconds: float) -> VideoResult:
            await dispatching()
            return await provider.generate(request)

        return (await self.video_chain.run(call, only=usable))[1]

    async def store(self, record: ImageRecord, result: VideoResult) -> list[StoredFile]:
        stored: list[StoredFile] = []
        keys: list[str] = []
        try:
            for i, file in enumerate(result.files):
                video = await self._storage.put(file.data, folder=record.user_id, name=f"{record.id}_{i}",
                                                content_type="video/mp4")
                keys.append(video.key)
                poster = await self._storage.put(file.poster, folder=record.user_id,
                                                 name=f"{record.id}_{i}_poster", content_type="image/webp")
                keys.append(poster.key)
                stored.append(StoredFile(key=video.key, url=video.url, width=file.width, height=file.height,
                                         format="mp4", duration_s=file.duration_s, poster_key=poster.key,
                                         poster_url=poster.url))
        except BaseException:
            for key in keys:
                await self._delete_key(key)
            raise
        return stored

    async def delete_files(self, files: list[StoredFile]) -> None:
        for file in files:
            for key in (file.key, file.poster_key):
                if key:
                    await self._delete_key(key)

    async def _delete_key(self, key: str) -> None:
        try:
            await self._storage.delete(key)
        except Exception:  # an orphan file costs storage, never a wrong answer
            log.warning("video_file_delete_failed", key=key)


VideoJobRunner = MediaJobRunner[VideoResult]
