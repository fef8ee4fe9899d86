"""`Overrides`: edge parts (adapters, connections) a test or benchmark brings in place of the configured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from arq.connections import ArqRedis

from repositories.database import MongoDatabase
from services.chat.ports import ChatProvider
from services.embeddings.ports import EmbeddingProvider
from services.identity.ports.email import EmailSender
from services.identity.ports.identity import TokenVerifier
from services.media.ports.images import ImageProvider
from services.media.ports.storage import StorageProvider
from services.media.ports.videos import VideoProvider
from services.payments.ports import PaymentsProvider
from services.platform.catalog import Catalog
from services.platform.ports.breaker import CircuitBreaker
from services.platform.ports.jobs import Housekeeping
from services.platform.ports.metrics import Metrics


@dataclass(frozen=True, kw_only=True)
class Overrides:
    """Edge parts to use instead of the configured ones (tests, benchmarks). None: built from settings.

    `Container(settings, Overrides(image_providers=[...]))`; a misspelt field is a `TypeError`,
    a wrongly typed one a mypy error."""

    database: MongoDatabase | None = None
    redis: ArqRedis | None = None
    breaker: CircuitBreaker | None = None
    chat_providers: Sequence[ChatProvider] | None = None
    embedding_providers: Sequence[EmbeddingProvider] | None = None
    image_providers: Sequence[ImageProvider] | None = None
    image_storage: StorageProvider | None = None
    video_providers: Sequence[VideoProvider] | None = None
    payments_provider: PaymentsProvider | None = None
    token_verifier: TokenVerifier | None = None
    catalog: Catalog | None = None
    housekeeping: Housekeeping | None = None
    metrics: Metrics | None = None
    mailer: EmailSender | None = None
