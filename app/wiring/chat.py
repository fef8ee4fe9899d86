"""Chat: providers with failover, the response cache, conversations, streaming, describe (vision)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.problems import problem_body, status_of
from app.wiring.adapters import build_chat_providers, build_storage, remote_fetcher
from app.wiring.credits import CreditsParts
from app.wiring.overrides import Overrides
from app.wiring.platform import PlatformParts
from controllers.chat import ChatController
from providers.instrumented import instrument_chat
from repositories.chat_cache import RedisKeyValueStore, UpstashKeyValueStore
from repositories.conversations import BeanieConversationRepository
from repositories.images import BeanieImageRepository
from repositories.responses import BeanieResponseStore
from services.chat.cache import ChatCache
from services.chat.conversations import ConversationService
from services.chat.images import ChatImages
from services.chat.library import ConversationLibrary
from services.chat.ports import ChatProvider
from services.chat.responses import ResponseLog
from services.chat.service import ChatService
from services.chat.stream import ChatStreamService
from services.chat.vision import VisionService
from services.platform.catalog import DEFAULT_PRICES
from services.platform.errors import AppError
from services.platform.ports.cache import KeyValueStore


@dataclass(frozen=True, kw_only=True)
class ChatParts:
    providers: list[ChatProvider]
    cache: ChatCache
    service: ChatService
    conversations: ConversationService  # the stored conversations (list, read, branch, delete)
    stream: ChatStreamService
    vision: VisionService
    responses: ResponseLog  # stored /v1/responses answers
    controller: ChatController

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()
        store = self.cache.store
        if isinstance(store, UpstashKeyValueStore):  # the Upstash REST client owns an HTTP session
            await store.aclose()


def wire_chat(s: Settings, o: Overrides, platform: PlatformParts, credits: CreditsParts) -> ChatParts:
    providers = instrument_chat(
        list(o.chat_providers) if o.chat_providers is not None else build_chat_providers(s), platform.metrics)
    store: KeyValueStore
    if s.upstash_redis_rest_url and s.upstash_redis_rest_token:
        store = UpstashKeyValueStore.from_url(s.upstash_redis_rest_url,
                                              s.upstash_redis_rest_token.get_secret_value())
    else:
        store = RedisKeyValueStore(platform.redis)
    cache = ChatCache(store, ttl_s=s.cache_ttl_s)
    catalog, live = platform.catalog, platform.live_settings
    images = ChatImages(storage=o.image_storage or build_storage(s), gallery=BeanieImageRepository(),
                        fetch=remote_fetcher(s), max_images=s.chat_max_images, max_mb=s.max_upload_mb)
    stored = BeanieConversationRepository()
    conversations = ConversationService(stored, images)
    chat = ChatService(
        providers=providers, conversations=stored, cache=cache,
        breaker=platform.breaker,
        credits=credits.service, price=lambda: int(catalog.prices["chat"]), models=lambda: catalog.models,
        live_settings=live, timeout_s=s.ai_timeout_s, max_chars=s.chat_max_chars, metrics=platform.metrics,
        images=images, meter=credits.meter,
        image_price=lambda: int(catalog.prices.get("chat_image", DEFAULT_PRICES["chat_image"])))
    streams = ChatStreamService(chat)

    def render_problem(error: AppError, request_id: str | None) -> dict[str, Any]:
        return problem_body(error, status=status_of(error), base_url=s.public_base_url, request_id=request_id)

    return ChatParts(
        providers=providers, cache=cache, service=chat, conversations=conversations, stream=streams,
        responses=ResponseLog(BeanieResponseStore()),
        vision=VisionService(providers=chat.chain, credits=credits.service, catalog=catalog,
                             live_settings=live, breaker=platform.breaker, timeout_s=s.ai_timeout_s,
                             meter=credits.meter),
        controller=ChatController(chat, streams, conversations=conversations,
                                  library=ConversationLibrary(conversations), render_problem=render_problem))
