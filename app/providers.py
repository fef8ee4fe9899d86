"""Adapter factories: which chat, image and storage adapters a configuration selects.

This is wiring (it reads `Settings`), so it lives in the composition root, not
in providers/: an adapter never knows about the configuration object.
Adding a chat provider = one adapter file in providers/ + one entry in `CHAT_ADAPTERS`.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from app.config import Settings
from services.ports.chat import ChatProvider
from services.ports.images import ImageProvider
from services.ports.storage import StorageProvider

log = structlog.stdlib.get_logger("muse.providers")


def _gemini_chat(s: Settings) -> ChatProvider | None:
    if not s.gemini_api_key:
        return None
    from providers.gemini_chat import GeminiChatProvider

    return GeminiChatProvider(api_key=s.gemini_api_key.get_secret_value(), model=s.gemini_model,
                              base_url=s.gemini_base_url)


def _openai_chat(s: Settings) -> ChatProvider | None:
    if not s.openai_api_key:
        return None
    from providers.openai_chat import OpenAIChatProvider

    return OpenAIChatProvider(api_key=s.openai_api_key.get_secret_value(), model=s.openai_model,
                              base_url=s.openai_base_url)


def _local_chat(s: Settings) -> ChatProvider:
    from providers.local_chat import LocalChatProvider

    return LocalChatProvider()


# name in CHAT_PROVIDERS → builder (None when its key is missing). One line per chat provider.
CHAT_ADAPTERS: dict[str, Callable[[Settings], ChatProvider | None]] = {
    "gemini": _gemini_chat,
    "openai": _openai_chat,
    "local": _local_chat,
}


def build_chat_providers(settings: Settings) -> list[ChatProvider]:
    """Providers in configured order; those without a key are left out; `local` when none remain."""
    providers: list[ChatProvider] = []
    for name in (n.lower() for n in settings.chat_providers):
        build = CHAT_ADAPTERS.get(name)
        provider = build(settings) if build else None
        if provider is None:
            log.info("chat_provider_skipped", provider=name, reason="no key or unknown")
            continue
        providers.append(provider)
    return providers or [_local_chat(settings)]


def _replicate_images(s: Settings) -> ImageProvider | None:
    if not s.replicate_api_token:
        return None
    from providers.replicate_images import ReplicateImageProvider

    return ReplicateImageProvider(s.replicate_api_token.get_secret_value(), model=s.replicate_image_model,
                                  base_url=s.replicate_base_url, timeout_s=s.image_timeout_s)


def _openai_images(s: Settings) -> ImageProvider | None:
    if not s.openai_api_key:
        return None
    from providers.openai_images import OpenAIImageProvider

    return OpenAIImageProvider(s.openai_api_key.get_secret_value(), model=s.openai_image_model,
                               base_url=s.openai_base_url, timeout_s=s.image_timeout_s)


def _local_images(s: Settings) -> ImageProvider:
    from providers.local_images import LocalImageProvider

    return LocalImageProvider()


IMAGE_ADAPTERS: dict[str, Callable[[Settings], ImageProvider | None]] = {
    "replicate": _replicate_images,
    "openai": _openai_images,
    "local": _local_images,
}


def build_image_providers(settings: Settings) -> list[ImageProvider]:
    """Providers in IMAGE_PROVIDERS order; those without a key are left out; `local` when none remain."""
    providers: list[ImageProvider] = []
    for name in (n.lower() for n in settings.image_providers):
        build = IMAGE_ADAPTERS.get(name)
        provider = build(settings) if build else None
        if provider is None:
            log.info("image_provider_skipped", provider=name, reason="no key or unknown")
            continue
        providers.append(provider)
    return providers or [_local_images(settings)]


def build_storage(settings: Settings) -> StorageProvider:
    """Cloudinary when CLOUDINARY_URL is set, else files under MEDIA_DIR served at /media/."""
    if settings.cloudinary_url:
        from providers.cloudinary_storage import CloudinaryStorage

        return CloudinaryStorage(settings.cloudinary_url.get_secret_value(),
                                 upload_prefix=settings.cloudinary_upload_prefix)
    from providers.local_storage import LocalStorage

    return LocalStorage(settings.media_dir, base_url=settings.public_base_url)
