"""`Container`: everything a web or worker process needs, one part per domain, built once by `start()`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from app.config import Settings
from app.embedded import EmbeddedStack, start_missing
from app.wiring.admin import AdminParts, wire_admin
from app.wiring.chat import ChatParts, wire_chat
from app.wiring.credits import CreditsParts, wire_credits
from app.wiring.embeddings import EmbeddingParts, wire_embeddings
from app.wiring.identity import IdentityParts, wire_identity
from app.wiring.media import MediaParts, wire_media
from app.wiring.overrides import Overrides
from app.wiring.payments import PaymentsParts, wire_payments
from app.wiring.platform import PlatformParts, wire_platform
from app.wiring.web import WebParts, wire_web
from services.media.ports.images import breaker_name
from services.media.ports.videos import video_breaker_name

log = structlog.stdlib.get_logger("muse.wiring")
SLOW_STOP_S = 1.0  # a stop step this slow is logged (`stop_step_slow`)


class Container:
    """The parts of each domain (`container.chat.service`, `container.credits.service`, ...).

    A domain's `wire_*` function (app/wiring/<domain>.py) builds its parts from the settings, the
    overrides and the parts of the domains it needs, so the order below is the one the types allow."""

    platform: PlatformParts
    credits: CreditsParts
    identity: IdentityParts
    chat: ChatParts
    embeddings: EmbeddingParts
    media: MediaParts
    payments: PaymentsParts
    web: WebParts
    admin: AdminParts

    def __init__(self, settings: Settings, overrides: Overrides | None = None) -> None:
        self.settings = settings
        self.overrides = overrides or Overrides()
        self.embedded = EmbeddedStack()
        self.started = False

    async def start(self) -> None:
        """Connect to MongoDB and Redis (embedded in development when unset), then wire every domain."""
        if self.started:
            return
        if not self.settings.is_production and not (self.settings.mongodb_uri and self.settings.redis_url):
            urls = await asyncio.to_thread(start_missing, self.settings, self.embedded)
            self.settings = self.settings.model_copy(update=urls)
            log.info("embedded_servers_started", **urls)
        s, o = self.settings, self.overrides
        self.platform = platform = await wire_platform(s, o, self._breaker_names)
        self.credits = credits = wire_credits(s, o, platform)
        self.identity = identity = await wire_identity(s, o, platform, credits)
        self.chat = chat = wire_chat(s, o, platform, credits)
        self.embeddings = embeddings = wire_embeddings(s, o, platform, credits, store=chat.cache.store)
        self.media = media = wire_media(s, o, platform, credits, chat)
        self.payments = payments = wire_payments(s, o, platform, credits, identity)
        self.web = await wire_web(s, platform, identity, chat, media, embeddings)
        self.admin = wire_admin(platform, credits, identity, chat, media, payments, s)
        self.started = True

    def _breaker_names(self) -> list[str]:  # read at scrape time, once the providers are wired
        images = [breaker_name(p.name) for p in self.media.image_providers]
        videos = [video_breaker_name(p.name) for p in self.media.video_providers]
        return [p.name for p in self.chat.providers] + images + videos

    async def stop(self) -> None:
        """Close connections and stop embedded servers."""
        if not self.started:
            return
        self.started = False
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("credits", self.credits.aclose), ("chat", self.chat.aclose),
            ("embeddings", self.embeddings.aclose), ("identity", self.identity.aclose),
            ("payments", self.payments.aclose), ("platform", self.platform.aclose),
            ("embedded", lambda: asyncio.to_thread(self.embedded.stop))]
        for name, step in steps:  # each waits a bounded time for its work under way; a slow one is named
            began = time.monotonic()
            await step()
            if (took := time.monotonic() - began) >= SLOW_STOP_S:
                log.warning("stop_step_slow", step=name, seconds=round(took, 3))
