"""Builds the ordered chat provider list from `CHAT_PROVIDERS` and the configured keys."""

from __future__ import annotations

import structlog

from app.config import Settings
from providers.chat import ChatProvider

log = structlog.stdlib.get_logger("muse.providers")


def build_chat_providers(settings: Settings) -> list[ChatProvider]:
    """Providers in configured order; those without a key are left out; `local` when none remain."""
    providers: list[ChatProvider] = []
    for name in settings.chat_providers:
        name = name.lower()
        if name == "gemini" and settings.gemini_api_key:
            from providers.gemini_chat import GeminiChatProvider

            providers.append(GeminiChatProvider(
                api_key=settings.gemini_api_key.get_secret_value(), model=settings.gemini_model,
                base_url=settings.gemini_base_url))
        elif name == "openai" and settings.openai_api_key:
            from providers.openai_chat import OpenAIChatProvider

            providers.append(OpenAIChatProvider(
                api_key=settings.openai_api_key.get_secret_value(), model=settings.openai_model,
                base_url=settings.openai_base_url))
        elif name == "local":
            from providers.local_chat import LocalChatProvider

            providers.append(LocalChatProvider())
        else:
            log.info("chat_provider_skipped", provider=name, reason="no key or unknown")
    if not providers:
        from providers.local_chat import LocalChatProvider

        providers.append(LocalChatProvider())
    return providers
