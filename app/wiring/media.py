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
from repositories.images import BeanieImageRepository, VideoDocument
from repositories.shares import BeanieShareRepository
from services.media.image_jobs import ImageJobRunner
from services.media.images import ImageService
from services.media.job_events import PublishingRepository
from services.media.ports.images import ImageProvider
from services.media.ports.storage import StorageProvider
from services.media.ports.videos import VideoProvider
from services.media.shares import ShareService
from services.media.video_jobs import VideoJobRunner
from services.media.videos import VideoService


@dataclass(frozen=True, kw_only=True)
class MediaParts:
    storage: StorageProvider
    image_providers: list[ImageProvider]
    image_repository: PublishingRepository
    image_jobs: ImageJobRunner
    images: ImageService
    video_providers: list[VideoProvider]
    video_repository: PublishingRepository
    video_jobs: VideoJobRunner
    videos: VideoService
    shares: ShareService
    images_controller: ImagesController
    videos_controller: VideosController
    media_controller: MediaController
    shares_controller: SharesController


def wire_media(s: Settings, o: Overrides, platform: PlatformParts, credits: CreditsParts,
               chat: ChatParts) -> MediaParts:
    storage = o.image_storage or build_storage(s)
    live, metrics, events = platform.live_settings, platform.metrics, platform.job_events
    charges = credits.service
    image_providers = instrument_images(
        list(o.image_providers) if o.image_providers is not None else build_image_providers(s), metrics)
    video_providers = instrument_videos(
        list(o.video_providers) if o.video_providers is not None else build_video_providers(s), metrics)
    image_repository = PublishingRepository(BeanieImageRepository(), events, topic=ImageService.topic)
    video_repository = PublishingRepository(BeanieImageRepository(VideoDocument), events,
                                            topic=VideoService.topic)

    async def image_chain() -> list[ImageProvider]:
        return await live.enabled(image_providers)

    async def video_chain() -> list[VideoProvider]:
        return await live.enabled(video_providers)

    image_jobs = ImageJobRunner(images=image_repository, storage=storage, providers=image_chain,
                                credits=charges, breaker=platform.breaker, timeout_s=s.image_timeout_s)
    images = ImageService(
        images=image_repository, storage=storage, runner=image_jobs, queue=platform.queue, credits=charges,
        catalog=platform.catalog, live_settings=live, provider_names=[p.name for p in image_providers],
        events=events, ttl_h=s.temp_media_ttl_h, timeout_s=s.image_timeout_s)
    video_jobs = VideoJobRunner(images=video_repository, storage=storage, providers=video_chain,
                                credits=charges, breaker=platform.breaker, timeout_s=s.video_timeout_s)
    videos = VideoService(
        sources=images, images=video_repository, storage=storage, runner=video_jobs, queue=platform.queue,
        credits=charges, catalog=platform.catalog, live_settings=live,
        provider_names=[p.name for p in video_providers], events=events, ttl_h=s.temp_media_ttl_h,
        timeout_s=s.video_timeout_s)
    shares = ShareService(BeanieShareRepository(), images, image_repository, base_url=s.public_base_url)
    return MediaParts(
        storage=storage, image_providers=image_providers, image_repository=image_repository,
        image_jobs=image_jobs, images=images, video_providers=video_providers,
        video_repository=video_repository, video_jobs=video_jobs, videos=videos, shares=shares,
        images_controller=ImagesController(images, chat.vision, max_upload_mb=s.max_upload_mb,
                                           status_of=status_of, fetch_url=remote_fetcher(s)),
        videos_controller=VideosController(videos, status_of=status_of),
        media_controller=MediaController(storage), shares_controller=SharesController(shares))
