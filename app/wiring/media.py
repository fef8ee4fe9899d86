"""Media: image jobs (generate, edit) and video jobs with failover, media storage, share links."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings
from app.problems import status_of
from app.wiring.adapters import build_image_providers, build_storage, build_video_providers, remote_fetcher
from app.wiring.chat import ChatParts
from app.wiring.credits import CreditsParts
from app.wiring.overrides import Overrides
from app.wiring.platform import PlatformParts
from controllers.images import ImagesController, MediaController
from controllers.shares import SharesController
from controllers.videos import VideosController
from providers.instrumented import instrument_images, instrument_videos
from repositories.images import BeanieImageRepository
from repositories.shares import BeanieShareRepository
from repositories.videos import VideoDocument
from services.media.image_jobs import ImageJobRunner, ImageWork
from services.media.images import IMAGES, ImageService
from services.media.job_events import PublishingRepository
from services.media.library import MediaLibrary, MediaType
from services.media.ports.images import ImageProvider
from services.media.ports.storage import StorageProvider
from services.media.ports.videos import VideoProvider
from services.media.shares import ShareService
from services.media.video_jobs import VideoJobRunner, VideoWork
from services.media.videos import VIDEOS, VideoService


@dataclass(frozen=True, kw_only=True)
class MediaParts:
    storage: StorageProvider
    image_providers: list[ImageProvider]
    image_repository: PublishingRepository
    image_jobs: ImageJobRunner  # the worker side: the job core with image work
    images: MediaLibrary  # the web side: submit, wait, follow, gallery, expiry
    image_service: ImageService  # generate and edit submissions
    video_providers: list[VideoProvider]
    video_repository: PublishingRepository
    video_jobs: VideoJobRunner
    videos: MediaLibrary
    video_service: VideoService
    shares: ShareService
    images_controller: ImagesController
    videos_controller: VideosController
    media_controller: MediaController
    shares_controller: SharesController


def wire_media(s: Settings, o: Overrides, platform: PlatformParts, credits: CreditsParts,
               chat: ChatParts) -> MediaParts:
    storage = o.image_storage or build_storage(s)
    live, metrics, events = platform.live_settings, platform.metrics, platform.job_events
    image_providers = instrument_images(
        list(o.image_providers) if o.image_providers is not None else build_image_providers(s), metrics)
    video_providers = instrument_videos(
        list(o.video_providers) if o.video_providers is not None else build_video_providers(s), metrics)
    image_repository = PublishingRepository(BeanieImageRepository(), events, topic=IMAGES.topic)
    video_repository = PublishingRepository(BeanieImageRepository(VideoDocument), events, topic=VIDEOS.topic)

    async def image_chain() -> list[ImageProvider]:
        return await live.enabled(image_providers)

    async def video_chain() -> list[VideoProvider]:
        return await live.enabled(video_providers)

    def library(media: MediaType, records: PublishingRepository, names: list[str],
                timeout_s: float) -> MediaLibrary:
        return MediaLibrary(media, records=records, storage=storage, queue=platform.queue,
                            credits=credits.service, provider_names=names, events=events, live_settings=live,
                            ttl_h=s.temp_media_ttl_h, timeout_s=timeout_s)

    image_work = ImageWork(storage=storage, providers=image_chain, breaker=platform.breaker,
                           timeout_s=s.image_timeout_s)
    video_work = VideoWork(storage=storage, providers=video_chain, breaker=platform.breaker,
                           timeout_s=s.video_timeout_s)
    images = library(IMAGES, image_repository, [p.name for p in image_providers], s.image_timeout_s)
    videos = library(VIDEOS, video_repository, [p.name for p in video_providers], s.video_timeout_s)
    image_service = ImageService(images, storage=storage, catalog=platform.catalog)
    video_service = VideoService(videos, sources=images, storage=storage, catalog=platform.catalog)
    shares = ShareService(BeanieShareRepository(), images, image_repository, base_url=s.public_base_url)
    return MediaParts(
        storage=storage, image_providers=image_providers, image_repository=image_repository,
        image_jobs=ImageJobRunner(image_work, records=image_repository, credits=credits.service,
                                  timeout_s=s.image_timeout_s, queue=platform.queue,
                                  heartbeat_timeout_s=s.job_heartbeat_timeout_s, meter=credits.meter),
        images=images, image_service=image_service, video_providers=video_providers,
        video_repository=video_repository,
        video_jobs=VideoJobRunner(video_work, records=video_repository, credits=credits.service,
                                  timeout_s=s.video_timeout_s, queue=platform.queue,
                                  heartbeat_timeout_s=s.job_heartbeat_timeout_s, meter=credits.meter),
        videos=videos, video_service=video_service, shares=shares,
        images_controller=ImagesController(image_service, chat.vision, max_upload_mb=s.max_upload_mb,
                                           status_of=status_of, fetch_url=remote_fetcher(s)),
        videos_controller=VideosController(video_service, status_of=status_of),
        media_controller=MediaController(storage), shares_controller=SharesController(shares))
