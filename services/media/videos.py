"""Video use cases (contract §15): submit text-to-video and image-to-video jobs.

A video is a media job like an image: `VideoService` is the image service (waiting and
following by pushed events, the gallery, save, delete, temp-media expiry, charge → record →
enqueue with the refund owned by the job runner) with its own submission, priced per second.
"""

from __future__ import annotations

from typing import Any

from services.media.image_models import Caller, ImageRecord, StoredFile, VideoInput
from services.media.images import ImageService
from services.media.ports.videos import video_size
from services.platform.catalog import Catalog
from services.platform.errors import FeatureDisabled
from services.platform.ports.queue import JobName

PRICE_KIND = "video_per_second"
DEFAULT_PRICE_PER_SECOND = 10  # contract §15, when CATALOG_JSON's prices leave it out


def video_price(catalog: Catalog, duration_s: int) -> int:
    """Credits for a video of `duration_s` seconds."""
    return int(catalog.prices.get(PRICE_KIND, DEFAULT_PRICE_PER_SECOND)) * duration_s


class VideoService(ImageService):
    """Everything the video routes do; the worker side is `VideoJobRunner`."""

    noun = "video"
    topic = "videos"
    id_prefix = "vid"

    def __init__(self, *, sources: ImageService, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sources = sources  # the user's images, for image-to-video

    async def _enqueue(self, record: ImageRecord) -> None:
        await self._queue.enqueue(JobName.GENERATE_VIDEO, record.id, job_id=record.id)

    async def _check_enabled(self) -> None:
        if self._live is not None and not (await self._live.current()).images_enabled:
            raise FeatureDisabled("Video generation is disabled for now.")

    async def submit_video(self, caller: Caller, inp: VideoInput) -> ImageRecord:
        """Charge (per second), record (queued) and enqueue a video job; the source image is copied."""
        await self._check_enabled()
        providers = self._providers_for(inp.model)
        width, height = video_size(inp.aspect_ratio)
        record = self._new_record(
            caller, kind="image_to_video" if inp.source_image_id else "text_to_video", prompt=inp.prompt,
            aspect_ratio=inp.aspect_ratio, width=width, height=height, num_outputs=1, model=inp.model,
            providers=providers, output_format="mp4", duration_s=inp.duration_s,
            source_image_id=inp.source_image_id)
        stored: StoredFile | None = None
        if inp.source_image_id:
            upload = await self._sources.source_upload(caller, inp.source_image_id)  # 404 / 422 first
            obj = await self._storage.put(upload.data, folder=caller.user_id, name=f"{record.id}_source",
                                          content_type=upload.content_type, private=True)
            stored = StoredFile(key=obj.key, url=obj.url, width=upload.width, height=upload.height,
                                format=upload.format)
            record.source = stored
        try:
            return await self._charge_and_enqueue(caller, record, price=video_price(self._catalog,
                                                                                    inp.duration_s),
                                                  ledger_kind="video")
        except BaseException:
            if stored is not None:
                await self._storage.delete(stored.key)
            raise
