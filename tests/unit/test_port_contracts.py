"""Every adapter and every hand-written `Fake*` matches the port it stands in for.

For each (implementation, port) pair: every method and attribute the port declares exists
on the implementation; methods agree on async-ness and on their parameters (same names,
kinds and order; a parameter the port gives a default has one; extra parameters are
optional); and a `runtime_checkable` port accepts an instance-like check on the class.
A port change that an adapter or a fake does not follow fails here, not in production.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Protocol

import pytest

from providers.argon2_hasher import Argon2PasswordHasher
from providers.clerk import ClerkTokenVerifier, ClerkUsersClient, ClerkWebhookVerifier
from providers.cloudinary_storage import CloudinaryStorage
from providers.gemini_chat import GeminiChatProvider
from providers.gemini_embeddings import GeminiEmbeddingProvider
from providers.instrumented import InstrumentedChatProvider, InstrumentedImageProvider
from providers.local_chat import LocalChatProvider
from providers.local_embeddings import LocalEmbeddingProvider
from providers.local_images import LocalImageProvider
from providers.local_storage import LocalStorage
from providers.openai_chat import OpenAIChatProvider
from providers.openai_embeddings import OpenAIEmbeddingProvider
from providers.openai_images import OpenAIImageProvider
from providers.paypal import PayPalPayments
from providers.replicate_images import ReplicateImageProvider
from providers.session_tokens import RsaSessionTokenSigner
from providers.smtp_email import SmtpEmailSender
from providers.stripe import StripePayments
from repositories.accounts import (
    BeanieAccountRepository,
    BeanieOneTimeTokenRepository,
    BeanieSessionRepository,
    CachedSessionRepository,
)
from repositories.admin_stats import MongoAdminStatsRepository
from repositories.api_keys import BeanieApiKeyRepository, CachedApiKeyRepository
from repositories.audit_log import BeanieAuditLogRepository
from repositories.breaker import RedisCircuitBreaker
from repositories.chat_cache import RedisKeyValueStore, UpstashKeyValueStore
from repositories.conversations import BeanieConversationRepository
from repositories.credits import BeanieCreditAccountRepository
from repositories.dev_outbox import RedisOutbox
from repositories.gift_codes import BeanieGiftCodeRepository
from repositories.idempotency import BeanieIdempotencyRepository
from repositories.images import BeanieImageRepository
from repositories.job_runs import BeanieJobRunRepository
from repositories.ledger import BeanieLedgerRepository
from repositories.live_settings import BeanieLiveSettingsRepository
from repositories.metrics import RedisMetrics
from repositories.payment_customers import BeanieCustomerRepository
from repositories.payments import BeaniePaymentRepository, BeanieSubscriptionRepository
from repositories.queue import ArqJobQueue
from repositories.rate_limit import RedisBucketStore, UpstashBucketStore
from repositories.users import BeanieUserRepository, CachedUserRepository
from repositories.webhook_events import BeanieWebhookEventRepository
from services.admin.ports import ApiKeys as AdminApiKeys
from services.admin.ports import OwnAccounts, StatsRepository, UserActivity
from services.admin.ports import Users as AdminUsers
from services.chat.ports import ChatProvider, ConversationRepository
from services.credits.gift_codes import GiftCodeRepository
from services.credits.ports import CreditAccountRepository, Credits, LedgerRepository
from services.credits.service import CreditsService
from services.embeddings.ports import EmbeddingProvider
from services.identity.accounts import AccountService
from services.identity.api_keys import ApiKeyRepository, ApiKeyService
from services.identity.ports.accounts import (
    AccountRepository,
    OneTimeTokenRepository,
    PasswordHasher,
    SessionRepository,
    SessionTokenSigner,
)
from services.identity.ports.email import EmailSender, Outbox
from services.identity.ports.identity import ProfileSource, TokenVerifier, WebhookVerifier
from services.identity.users import UserRepository, UserService
from services.media.ports.images import ImageProvider
from services.media.ports.records import GalleryRepository
from services.media.ports.storage import StorageProvider
from services.payments.ports import (
    CustomerRepository,
    PaymentRepository,
    PaymentsProvider,
    SubscriptionRepository,
)
from services.platform.idempotency import IdempotencyRepository
from services.platform.ports.audit import AuditLog, AuditRecorder
from services.platform.ports.breaker import CircuitBreaker
from services.platform.ports.cache import KeyValueStore
from services.platform.ports.jobs import JobRunRepository
from services.platform.ports.live_settings import LiveSettingsRepository
from services.platform.ports.metrics import Metrics as MetricsPort
from services.platform.ports.metrics import MetricsExporter, NoMetrics
from services.platform.ports.queue import JobQueue
from services.platform.ports.rate_limit import BucketStore
from services.platform.ports.webhooks import ProcessedEvents
from tests.unit.test_chat_rules import FakeBreaker, FakeProvider
from tests.unit.test_identity_users import FakeUserRepository
from tests.unit.test_image_failover import FakeImageProvider
from tests.unit.test_live_settings_service import FakeAuditLog, FakeLiveSettingsRepository
from tests.unit.test_rate_limit_rules import FakeBucketStore
from tests.unit.test_sessions import FakeSessionRepository, FakeVerifier

ADAPTERS: list[tuple[type, type]] = [
    # providers/: SDK adapters
    (GeminiChatProvider, ChatProvider), (OpenAIChatProvider, ChatProvider), (LocalChatProvider, ChatProvider),
    (ReplicateImageProvider, ImageProvider), (OpenAIImageProvider, ImageProvider),
    (LocalImageProvider, ImageProvider),
    (GeminiEmbeddingProvider, EmbeddingProvider), (OpenAIEmbeddingProvider, EmbeddingProvider),
    (LocalEmbeddingProvider, EmbeddingProvider),
    (CloudinaryStorage, StorageProvider), (LocalStorage, StorageProvider),
    (PayPalPayments, PaymentsProvider), (StripePayments, PaymentsProvider),
    (InstrumentedChatProvider, ChatProvider), (InstrumentedImageProvider, ImageProvider),
    (RedisCircuitBreaker, CircuitBreaker),
    (RedisMetrics, MetricsExporter), (NoMetrics, MetricsPort),
    (Argon2PasswordHasher, PasswordHasher), (RsaSessionTokenSigner, SessionTokenSigner),
    (SmtpEmailSender, EmailSender), (RedisOutbox, EmailSender), (RedisOutbox, Outbox),
    (ClerkTokenVerifier, TokenVerifier), (ClerkUsersClient, ProfileSource),
    (ClerkWebhookVerifier, WebhookVerifier),
    # repositories/: MongoDB and Redis
    (RedisKeyValueStore, KeyValueStore), (UpstashKeyValueStore, KeyValueStore),
    (RedisBucketStore, BucketStore), (UpstashBucketStore, BucketStore),
    (ArqJobQueue, JobQueue), (BeanieJobRunRepository, JobRunRepository),
    (BeanieLiveSettingsRepository, LiveSettingsRepository), (BeanieAuditLogRepository, AuditLog),
    (MongoAdminStatsRepository, StatsRepository), (MongoAdminStatsRepository, UserActivity),
    (BeanieWebhookEventRepository, ProcessedEvents),
    (BeanieCreditAccountRepository, CreditAccountRepository), (BeanieLedgerRepository, LedgerRepository),
    (BeaniePaymentRepository, PaymentRepository), (BeanieSubscriptionRepository, SubscriptionRepository),
    (BeanieCustomerRepository, CustomerRepository),
    (BeanieUserRepository, UserRepository), (CachedUserRepository, UserRepository),
    (BeanieApiKeyRepository, ApiKeyRepository), (CachedApiKeyRepository, ApiKeyRepository),
    (BeanieGiftCodeRepository, GiftCodeRepository), (BeanieImageRepository, GalleryRepository),
    (BeanieConversationRepository, ConversationRepository),
    (BeanieIdempotencyRepository, IdempotencyRepository),
    (BeanieAccountRepository, AccountRepository), (BeanieOneTimeTokenRepository, OneTimeTokenRepository),
    (BeanieSessionRepository, SessionRepository), (CachedSessionRepository, SessionRepository),
    # services/ behind a port other services use
    (CreditsService, Credits),
    (UserService, AdminUsers), (ApiKeyService, AdminApiKeys), (AccountService, OwnAccounts),
]

FAKES: list[tuple[type, type]] = [
    (FakeProvider, ChatProvider), (FakeBreaker, CircuitBreaker), (FakeImageProvider, ImageProvider),
    (FakeUserRepository, UserRepository), (FakeLiveSettingsRepository, LiveSettingsRepository),
    (FakeAuditLog, AuditRecorder), (FakeBucketStore, BucketStore),
    (FakeSessionRepository, SessionRepository), (FakeVerifier, TokenVerifier),
]

_PROTOCOL_BASES = {object, Protocol, Any}


def _members(port: type) -> dict[str, Any]:
    """The methods and attributes a port declares (its own and its base ports')."""
    members: dict[str, Any] = {}
    for cls in reversed(port.__mro__):
        if cls in _PROTOCOL_BASES or cls.__module__ == "typing":
            continue
        for name in getattr(cls, "__annotations__", {}):
            members.setdefault(name, None)
        for name, value in vars(cls).items():
            if not name.startswith("_") and (callable(value) or isinstance(value, property)):
                members[name] = value
    return members


def _sets_in_init(impl: type, name: str) -> bool:
    """Whether the class (or a base) assigns `self.<name>`, or delegates attributes (`__getattr__`)."""
    for cls in impl.__mro__[:-1]:
        if "__getattr__" in vars(cls):
            return True
        try:
            source = inspect.getsource(cls)
        except (OSError, TypeError):
            continue
        if re.search(rf"self\.{name}\b[^=\n]*=(?!=)", source):
            return True
    return False


def _kind(fn: Any) -> str:
    if inspect.iscoroutinefunction(fn):
        return "async"
    if inspect.isasyncgenfunction(fn):
        return "async-iterator"
    return "sync"


def _compatible_kinds(port: str, impl: str) -> bool:
    # A port's plain `def stream(...) -> AsyncIterator` may be an `async def ... yield` generator.
    return port == impl or (port == "sync" and impl == "async-iterator")


def _mismatches(impl: type, port: type) -> list[str]:
    problems: list[str] = []
    for name, declared in _members(port).items():
        if not hasattr(impl, name):
            if not (any(name in getattr(c, "__annotations__", {}) for c in impl.__mro__)
                    or _sets_in_init(impl, name)):
                problems.append(f"missing {name}")
            continue
        if declared is None or isinstance(declared, property):
            continue  # an attribute: presence is the contract
        actual = inspect.getattr_static(impl, name)
        actual = actual.__func__ if isinstance(actual, staticmethod | classmethod) else actual
        if not callable(actual):
            problems.append(f"{name} is not callable")
            continue
        if not _compatible_kinds(_kind(declared), _kind(actual)):
            problems.append(f"{name}: port is {_kind(declared)}, implementation is {_kind(actual)}")
        problems += [f"{name}: {p}" for p in _signature_mismatches(declared, actual)]
    return problems


def _signature_mismatches(declared: Any, actual: Any) -> list[str]:
    want = [p for p in inspect.signature(declared).parameters.values() if p.name != "self"]
    have_all = [p for p in inspect.signature(actual).parameters.values() if p.name != "self"]
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in have_all)
    has_var_pos = any(p.kind is p.VAR_POSITIONAL for p in have_all)
    have = {p.name: p for p in have_all}
    problems = []
    positional = [p.name for p in have_all if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    want_positional = [p.name for p in want if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not has_var_pos and positional[:len(want_positional)] != want_positional:
        problems.append(f"positional parameters {positional} differ from the port's {want_positional}")
    for p in want:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        got = have.get(p.name)
        if got is None:
            if not (has_var_kw if p.kind is p.KEYWORD_ONLY else has_var_pos or has_var_kw):
                problems.append(f"no parameter {p.name!r}")
            continue
        if p.kind is p.KEYWORD_ONLY and got.kind not in (got.KEYWORD_ONLY, got.POSITIONAL_OR_KEYWORD):
            problems.append(f"{p.name!r} must be accepted by keyword")
        if p.default is not p.empty and got.default is got.empty:
            problems.append(f"{p.name!r} needs a default, as in the port")
    for name, got in have.items():
        if name not in {p.name for p in want} and got.default is got.empty \
                and got.kind not in (got.VAR_POSITIONAL, got.VAR_KEYWORD):
            problems.append(f"extra required parameter {name!r}")
    return problems


@pytest.mark.parametrize("impl, port", ADAPTERS + FAKES, ids=lambda c: c.__name__)
def test_implementation_matches_its_port(impl: type, port: type) -> None:
    assert _mismatches(impl, port) == []


def test_the_checker_catches_a_drifting_fake() -> None:
    class DriftingStore:  # `cost` lost its default and a keyword became positional
        async def take(self, key: str, burst: int, *, refill_per_s: float, cost: int) -> tuple[bool, float]:
            return True, 0.0

    class SyncStore:
        def take(self, key: str, *, burst: int, refill_per_s: float, cost: int = 1) -> tuple[bool, float]:
            return True, 0.0

    assert _mismatches(DriftingStore, BucketStore) != []
    assert any("async" in p for p in _mismatches(SyncStore, BucketStore))
    assert _mismatches(object, BucketStore) == ["missing take"]


def test_no_service_takes_an_any_typed_collaborator() -> None:
    """Every collaborator a service's `__init__` takes is typed (a port, a service, a callable...)."""
    import ast
    from pathlib import Path

    untyped = []
    for path in sorted(Path(__file__).resolve().parents[2].joinpath("services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            for fn in node.body:
                if isinstance(fn, ast.FunctionDef) and fn.name == "__init__":
                    for arg in [*fn.args.args, *fn.args.kwonlyargs]:
                        if arg.arg == "self":
                            continue
                        annotation = ast.unparse(arg.annotation) if arg.annotation else "<none>"
                        if annotation.replace(" ", "") in ("<none>", "Any", "Any|None", "Optional[Any]"):
                            untyped.append(f"{path.name}: {node.name}({arg.arg}: {annotation})")
    assert untyped == []
