"""Embeddings (contract §12): one provider per catalogue model, the embeddings cache, the service.

Providers are built in EMBEDDING_PROVIDERS order (those without a key left out, `local` when none
remain): the first one answers `embed-default`; a catalogue model naming another provider is
answered by that one when it is configured, and is neither offered nor served when it is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog

from app.config import Settings
from app.wiring.credits import CreditsParts
from app.wiring.overrides import Overrides
from app.wiring.platform import PlatformParts
from providers.local_embeddings import LocalEmbeddingProvider
from services.embeddings.cache import EmbeddingCache
from services.embeddings.ports import EmbeddingProvider
from services.embeddings.service import EmbeddingService
from services.platform.catalog import DEFAULT_PRICES
from services.platform.ports.cache import KeyValueStore

log = structlog.stdlib.get_logger("muse.providers")


def _gemini(s: Settings) -> EmbeddingProvider | None:
    if not s.gemini_api_key:
        return None
    from providers.gemini_embeddings import GeminiEmbeddingProvider

    return GeminiEmbeddingProvider(api_key=s.gemini_api_key.get_secret_value(), base_url=s.gemini_base_url)


def _openai(s: Settings) -> EmbeddingProvider | None:
    if not s.openai_api_key:
        return None
    from providers.openai_embeddings import OpenAIEmbeddingProvider

    return OpenAIEmbeddingProvider(api_key=s.openai_api_key.get_secret_value(), base_url=s.openai_base_url)


# name in EMBEDDING_PROVIDERS → adapter (None when its key is missing). One entry per provider.
EMBEDDING_ADAPTERS: dict[str, Callable[[Settings], EmbeddingProvider | None]] = {
    "gemini": _gemini,
    "openai": _openai,
    "local": lambda s: LocalEmbeddingProvider(),
}


def build_embedding_providers(s: Settings) -> list[EmbeddingProvider]:
    """The configured providers in EMBEDDING_PROVIDERS order, then every other configured one (a
    catalogue model may name it); `local` alone when none is configured."""
    order = [n.lower() for n in s.embedding_providers]
    order += [n for n in EMBEDDING_ADAPTERS if n not in order and n != "local"]
    providers: list[EmbeddingProvider] = []
    for name in order:
        build = EMBEDDING_ADAPTERS.get(name)
        provider = build(s) if build else None
        if provider is None:
            log.info("embedding_provider_skipped", provider=name, reason="no key or unknown")
            continue
        providers.append(provider)
    return providers or [LocalEmbeddingProvider()]


@dataclass(frozen=True, kw_only=True)
class EmbeddingParts:
    providers: list[EmbeddingProvider]
    cache: EmbeddingCache
    service: EmbeddingService

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()


def wire_embeddings(s: Settings, o: Overrides, platform: PlatformParts, credits: CreditsParts,
                    *, store: KeyValueStore) -> EmbeddingParts:
    """`store`: the response cache's key-value store (chat's: Redis, or Upstash REST)."""
    providers = (list(o.embedding_providers) if o.embedding_providers is not None
                 else build_embedding_providers(s))
    cache = EmbeddingCache(store, ttl_s=s.cache_ttl_s)
    catalog = platform.catalog
    service = EmbeddingService(
        providers=providers, models=lambda: catalog.embedding_models, cache=cache, credits=credits.service,
        price_per_1k=lambda: int(catalog.prices.get("embedding_per_1k", DEFAULT_PRICES["embedding_per_1k"])),
        live_settings=platform.live_settings, timeout_s=s.ai_timeout_s, metrics=platform.metrics)
    return EmbeddingParts(providers=providers, cache=cache, service=service)
