"""Adapter factories: which chat, image, video, storage and payment adapters a configuration selects.

This is wiring (it reads `Settings`), so it lives in the composition root, not
in providers/: an adapter never knows about the configuration object.
Adding a chat provider = one adapter file in providers/ + one entry in `CHAT_ADAPTERS`
(and the settings fields its configuration names need in app/config.py); a payment
processor = one adapter + one entry in `payment_factories`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from pydantic import SecretStr

from app.config import Settings, parse_plan_ids
from providers.local_chat import LocalChatProvider
from providers.local_images import LocalImageProvider
from providers.local_storage import LocalStorage
from services.chat.ports import ChatProvider
from services.media.ports.images import ImageProvider
from services.media.ports.storage import StorageProvider
from services.media.ports.videos import VideoProvider
from services.payments.ports import PaymentsProvider

log = structlog.stdlib.get_logger("muse.providers")
P = TypeVar("P")


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


# Each SDK is imported by its factory, when configured: a process loads only the SDKs it uses
# (importing them all took ~2 s of start-up and tens of MB, issue 12).


def _gemini_chat(s: Settings) -> ChatProvider | None:
    if not s.gemini_api_key:
        return None
    from providers.gemini_chat import GeminiChatProvider

    return GeminiChatProvider(api_key=_secret(s.gemini_api_key), model=s.gemini_model,
                              base_url=s.gemini_base_url)


def _openai_chat(s: Settings) -> ChatProvider | None:
    if not s.openai_api_key:
        return None
    from providers.openai_chat import OpenAIChatProvider

    return OpenAIChatProvider(api_key=_secret(s.openai_api_key), model=s.openai_model,
                              base_url=s.openai_base_url)


def _replicate_images(s: Settings) -> ImageProvider | None:
    if not s.replicate_api_token:
        return None
    from providers.replicate_images import ReplicateImageProvider

    return ReplicateImageProvider(_secret(s.replicate_api_token), model=s.replicate_image_model,
                                  base_url=s.replicate_base_url, timeout_s=s.image_timeout_s)


def _openai_images(s: Settings) -> ImageProvider | None:
    if not s.openai_api_key:
        return None
    from providers.openai_images import OpenAIImageProvider

    return OpenAIImageProvider(_secret(s.openai_api_key), model=s.openai_image_model,
                               base_url=s.openai_base_url, timeout_s=s.image_timeout_s)


# name in CHAT_PROVIDERS → adapter (None when its key is missing). One entry per chat provider.
CHAT_ADAPTERS: dict[str, Callable[[Settings], ChatProvider | None]] = {
    "gemini": _gemini_chat,
    "openai": _openai_chat,
    "local": lambda s: LocalChatProvider(),
}


def _build_in_order(kind: str, names: list[str], adapters: dict[str, Callable[[Settings], P | None]],
                       settings: Settings, local: Callable[[], P]) -> list[P]:
    """The adapters of `names` in order; those without a key (or unknown) are left out, logged;
    `local` when none remain."""
    providers: list[P] = []
    for name in (n.lower() for n in names):
        build = adapters.get(name)
        provider = build(settings) if build else None
        if provider is None:
            log.info(f"{kind}_provider_skipped", provider=name, reason="no key or unknown")
            continue
        providers.append(provider)
    return providers or [local()]


def build_chat_providers(settings: Settings) -> list[ChatProvider]:
    """Providers in CHAT_PROVIDERS order; those without a key are left out; `local` when none remain."""
    return _build_in_order("chat", settings.chat_providers, CHAT_ADAPTERS, settings, LocalChatProvider)


# name in IMAGE_PROVIDERS → adapter (None when its key is missing). One entry per image provider.
IMAGE_ADAPTERS: dict[str, Callable[[Settings], ImageProvider | None]] = {
    "replicate": _replicate_images,
    "openai": _openai_images,
    "local": lambda s: LocalImageProvider(),
}


def build_image_providers(settings: Settings) -> list[ImageProvider]:
    """Providers in IMAGE_PROVIDERS order; those without a key are left out; `local` when none remain."""
    return _build_in_order("image", settings.image_providers, IMAGE_ADAPTERS, settings, LocalImageProvider)


# name in VIDEO_PROVIDERS → adapter (None when its key is missing). One entry per video provider.
def _replicate_videos(s: Settings) -> VideoProvider | None:
    if not s.replicate_api_token:
        return None
    from providers.replicate_videos import ReplicateVideoProvider
    return ReplicateVideoProvider(_secret(s.replicate_api_token), model=s.replicate_video_model,
                                  base_url=s.replicate_base_url, timeout_s=s.video_timeout_s)


def _local_videos(s: Settings | None = None) -> VideoProvider:  # also the fallback (no settings)
    from providers.local_videos import LocalVideoProvider  # PyAV: loaded when it renders (providers/mp4.py)
    return LocalVideoProvider()


VIDEO_ADAPTERS: dict[str, Callable[[Settings], VideoProvider | None]] = {
    "replicate": _replicate_videos,
    "local": _local_videos,
}


def build_video_providers(settings: Settings) -> list[VideoProvider]:
    """Providers in VIDEO_PROVIDERS order; those without a key are left out; `local` when none remain."""
    return _build_in_order("video", settings.video_providers, VIDEO_ADAPTERS, settings, _local_videos)


def remote_fetcher(s: Settings) -> Callable[[str], Awaitable[bytes]]:
    """GET an image URL (describe, images in chat): the address-pinned fetcher, private addresses
    refused in production, at most MAX_UPLOAD_MB."""
    from providers.remote_fetch import fetch_remote_image

    max_bytes = int(s.max_upload_mb * 1024 * 1024)

    async def fetch_url(url: str) -> bytes:
        return await fetch_remote_image(url, max_bytes=max_bytes, allow_private=not s.is_production)

    return fetch_url


def build_storage(settings: Settings) -> StorageProvider:
    """Cloudinary when CLOUDINARY_URL is set, else files under MEDIA_DIR served at /media/."""
    if settings.cloudinary_url:
        from providers.cloudinary_storage import CloudinaryStorage

        return CloudinaryStorage(settings.cloudinary_url.get_secret_value(),
                                 upload_prefix=settings.cloudinary_upload_prefix)
    return LocalStorage(settings.media_dir, base_url=settings.public_base_url)


def payment_factories(s: Settings, override: PaymentsProvider | None = None,
                      ) -> dict[str, Callable[[], PaymentsProvider]]:
    """The configured payment processors, in PAYMENT_PROVIDERS order (contract §14), unbuilt.

    `override` (a test's adapter) replaces PayPal's."""
    paypal_secret = s.paypal_client_secret.get_secret_value() if s.paypal_client_secret else None
    stripe_key = s.stripe_secret_key.get_secret_value() if s.stripe_secret_key else None
    stripe_hook = s.stripe_webhook_secret.get_secret_value() if s.stripe_webhook_secret else None
    configured: dict[str, Callable[[], PaymentsProvider]] = {}
    if s.paypal_client_id and paypal_secret:
        def paypal() -> PaymentsProvider:
            from providers.paypal import PayPalPayments  # the SDK is loaded only when configured (issue 12)
            return PayPalPayments(
                base_url=s.paypal_base_url, client_id=s.paypal_client_id or "", client_secret=paypal_secret,
                webhook_id=s.paypal_webhook_id, timeout=s.paypal_timeout_s, plan_ids=s.paypal_plan_map)
        configured["paypal"] = paypal
    if stripe_key:
        def stripe() -> PaymentsProvider:
            from providers.stripe import StripePayments  # the SDK is loaded only when configured (issue 12)
            return StripePayments(
                secret_key=stripe_key, webhook_secret=stripe_hook, base_url=s.stripe_base_url,
                timeout=s.stripe_timeout_s, price_ids=parse_plan_ids(s.stripe_price_ids))
        configured["stripe"] = stripe
    ordered = {name: configured[name] for name in s.payment_providers if name in configured}
    if override is not None:
        ordered.pop("paypal", None)
        return {override.name: lambda: override, **ordered}
    return ordered
