"""Video submission (contract §15): text-to-video and image-to-video jobs, priced per second.

A video is a media job like an image: waiting and following by pushed events, the gallery, save,
delete, temp-media expiry and charge → record → enqueue are the media library's
(services/media/library.py), running it is the job core's (services/media/jobs.py).
"""

from __future__ import annotations

from services.media.image_models import Caller, ImageRecord, StoredFile, VideoInput
from services.media.library import MediaLibrary, MediaType
from services.media.ports.storage import StorageProvider
from services.media.ports.videos import video_size
from services.platform.catalog import Catalog
from services.platform.ports.queue import JobName

PRICE_KIND = "video_per_second"
DEFAULT_PRICE_PER_SECOND = 10  # contract §15, when CATALOG_JSON's prices leave it out


def video_price(catalog: Catalog, duration_s: int) -> int:
    """Credits for a video of `duration_s` seconds."""
    return int(catalog.prices.get(PRICE_KIND, DEFAULT_PRICE_PER_SECOND)) * duration_s


VIDEOS = MediaType(noun="video", topic="videos", id_prefix="vid", job=JobName.GENERATE_VIDEO,
                   disabled="Video generation is disabled for now.")


class VideoService:
    """Submits video jobs through the videos' library; the source of an image-to-video job is one
    of the user's images (`sources`, the images' library)."""

    def __init__(self, library: MediaLibrary, *, sources: MediaLibrary, storage: StorageProvider,
                 catalog: Catalog) -> None:
        self.library, self._sources, self._storage, self._catalog = library, sources, storage, catalog

    async def submit_video(self, caller: Caller, inp: VideoInput) -> ImageRecord:
        """Charge (per second), record (queued) and enqueue a video job; the source image is copied."""
        await self.library.check_enabled()
        providers = self.library.providers_for(inp.model)
        width, height = video_size(inp.aspect_ratio)
        record = self.library.new_record(
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
            return await self.library.submit(caller, record, price=video_price(self._catalog, inp.duration_s),
                                             ledger_kind="video")
        except BaseException:
            if stored is not None:
                await self._storage.delete(stored.key)
            raise
