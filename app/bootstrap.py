"""Composition root: builds repositories, providers, services and controllers once per process.

Each feature is wired by one small function with typed inputs (`wire_core`,
`wire_live_settings`, `wire_credits`, `wire_identity`, `wire_chat`,
`wire_images`, `wire_videos`, `wire_payments`, `wire_admin`) that returns a frozen dataclass of
its parts; a feature's inputs are the parts of the features it needs, so the
order is the one the types allow. `Container.start()` calls them and exposes
the parts as typed attributes (routes, jobs and commands read
`container.chat_controller`, `container.credits`, ...).

`Overrides` replaces edge parts (adapters and connections) with your own:
`Container(settings, Overrides(image_providers=[...]))`; a misspelt field is a
`TypeError`, a wrongly typed one a mypy error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from arq.connections import ArqRedis

from app.config import Settings, parse_plan_ids
from app.embedded import EmbeddedStack, start_missing
from app.problems import problem_body, status_of
from app.providers import (
    CHAT_ADAPTERS,
    IMAGE_ADAPTERS,
    build_chat_providers,
    build_image_providers,
    build_storage,
    build_video_providers,
)
from controllers.accounts import AccountsController
from controllers.admin_settings import AdminSettingsController
from controllers.admin_users import AdminUsersController
from controllers.api_keys import ApiKeysController
from controllers.chat import ChatController
from controllers.clerk_webhooks import ClerkWebhooksController
from controllers.credits import CreditsController
from controllers.dev import DevController
from controllers.dev_outbox import DevOutboxController
from controllers.gift_codes import GiftCodesController
from controllers.health import HealthController
from controllers.images import ImagesController, MediaController
from controllers.me import MeController
from controllers.metrics import MetricsController
from controllers.openai_api import OpenAIController
from controllers.payments import PaymentsController
from controllers.paypal_webhooks import PayPalWebhooksController
from controllers.plans import PlansController
from controllers.shares import SharesController
from controllers.stripe import StripeController
from controllers.subscriptions import SubscriptionsController
from controllers.videos import VideosController
from providers.argon2_hasher import Argon2PasswordHasher
from providers.breaker import RedisCircuitBreaker
from providers.clerk import ClerkTokenVerifier, ClerkUsersClient, ClerkWebhookVerifier
from providers.instrumented import instrument_chat, instrument_images, instrument_videos
from providers.metrics import RedisMetrics
from providers.remote_fetch import fetch_remote_image
from providers.session_tokens import RsaSessionTokenSigner
from providers.smtp_email import SmtpEmailSender
from repositories.accounts import (
    BeanieAccountRepository,
    BeanieOneTimeTokenRepository,
    BeanieSessionRepository,
    CachedSessionRepository,
)
from repositories.admin_stats import MongoAdminStatsRepository
from repositories.api_keys import BeanieApiKeyRepository, CachedApiKeyRepository
from repositories.audit_log import BeanieAuditLogRepository
from repositories.chat_cache import RedisKeyValueStore, UpstashKeyValueStore
from repositories.conversations import BeanieConversationRepository
from repositories.credits import BeanieCreditAccountRepository
from repositories.database import MongoDatabase
from repositories.dev_outbox import RedisOutbox
from repositories.gift_codes import BeanieGiftCodeRepository
from repositories.idempotency import BeanieIdempotencyRepository
from repositories.images import BeanieImageRepository, VideoDocument
from repositories.job_events import RedisJobEvents
from repositories.job_runs import BeanieJobRunRepository
from repositories.key_spend import MongoKeySpendRepository
from repositories.ledger import BeanieLedgerRepository
from repositories.live_settings import BeanieLiveSettingsRepository
from repositories.payment_customers import BeanieCustomerRepository
from repositories.payments import BeaniePaymentRepository, BeanieSubscriptionRepository
from repositories.queue import ArqJobQueue
from repositories.rate_limit import RedisBucketStore, UpstashBucketStore
from repositories.redis_client import connect_redis
from repositories.shares import BeanieShareRepository
from repositories.users import BeanieUserRepository, CachedUserRepository, TombstoneCache
from repositories.webhook_events import BeanieWebhookEventRepository
from services.admin.service import AdminService
from services.admin.stats import AdminStatsService
from services.chat.cache import ChatCache
from services.chat.ports import ChatProvider
from services.chat.service import ChatService
from services.chat.stream import ChatStreamService
from services.chat.vision import VisionService
from services.credits.gift_codes import GiftCodeService
from services.credits.service import CreditsService
from services.identity.accounts import AccountService
from services.identity.api_keys import ApiKeyService
from services.identity.auth import AuthService
from services.identity.auth_keys import ensure_dev_key_pair
from services.identity.login_throttle import LoginThrottle
from services.identity.passwords import PasswordPolicy, load_common_passwords
from services.identity.ports.email import EmailSender
from services.identity.ports.identity import TokenVerifier
from services.identity.sessions import SessionService, SessionVerifier
from services.identity.users import UserService
from services.identity.webhooks import ClerkEventService
from services.media.image_jobs import ImageJobRunner, breaker_name
from services.media.images import ImageService
from services.media.job_events import PublishingRepository
from services.media.ports.images import ImageProvider
from services.media.ports.storage import StorageProvider
from services.media.ports.videos import VideoProvider
from services.media.shares import ShareService
from services.media.video_jobs import VideoJobRunner, video_breaker_name
from services.media.videos import VideoService
from services.payments.customers import PaymentCustomers
from services.payments.ports import PaymentsProvider
from services.payments.providers import PaymentProviders
from services.payments.reconcile import PaymentReconciler
from services.payments.service import PaymentService
from services.payments.subscriptions import SubscriptionService
from services.payments.webhooks import PaymentWebhookService
from services.platform.catalog import Catalog
from services.platform.errors import AppError
from services.platform.health import HealthService
from services.platform.housekeeping import HousekeepingService
from services.platform.idempotency import IdempotencyService
from services.platform.live_settings import LiveSettings, LiveSettingsService
from services.platform.metrics import MetricsService, breaker_gauge, queue_depth_gauge
from services.platform.ports.breaker import CircuitBreaker
from services.platform.ports.cache import KeyValueStore
from services.platform.ports.jobs import Housekeeping
from services.platform.ports.metrics import Metrics, NoMetrics
from services.platform.rate_limit import Limit, RateLimiter, limits_from

log = structlog.stdlib.get_logger("muse.bootstrap")


@dataclass(frozen=True, kw_only=True)
class Overrides:
    """Edge parts to use instead of the configured ones (tests, benchmarks). None: built from settings."""

    database: MongoDatabase | None = None
    redis: ArqRedis | None = None
    breaker: CircuitBreaker | None = None
    chat_providers: Sequence[ChatProvider] | None = None
    image_providers: Sequence[ImageProvider] | None = None
    image_storage: StorageProvider | None = None
    video_providers: Sequence[VideoProvider] | None = None
    payments_provider: PaymentsProvider | None = None
    token_verifier: TokenVerifier | None = None
    catalog: Catalog | None = None
    housekeeping: Housekeeping | None = None
    metrics: Metrics | None = None
    mailer: EmailSender | None = None


# --- core ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Core:
    database: MongoDatabase
    redis: ArqRedis
    queue: ArqJobQueue
    breaker: CircuitBreaker
    job_runs: BeanieJobRunRepository
    housekeeping: Housekeeping
    health: HealthService
    health_controller: HealthController
    namespace: str  # prefix of this deployment's Redis keys (one Redis may serve several)
    job_events: RedisJobEvents  # media job changes pushed to every process (contract §15)


async def wire_core(s: Settings, o: Overrides) -> Core:
    """Connections, the job queue, the circuit breaker, health and housekeeping."""
    assert s.mongodb_uri and s.redis_url, "Container.start() fills them (embedded servers) when unset"
    database = o.database or MongoDatabase(s.mongodb_uri, s.mongodb_db, timeout_s=s.mongodb_timeout_s)
    await database.init()
    redis = o.redis or connect_redis(s.redis_url, timeout_s=s.redis_timeout_s)  # bounded, fails fast
    queue = ArqJobQueue(redis, s.queue_name)
    breaker = o.breaker or RedisCircuitBreaker(
        redis, threshold=s.breaker_failure_threshold, cooldown_s=s.breaker_cooldown_s,
        trial_ttl_s=max(s.ai_timeout_s * 2, s.image_timeout_s) + 5,  # outlasts a chat or image trial
        closed_cache_s=1.0)  # a closed circuit is re-read from Redis at most once a second
    job_runs = BeanieJobRunRepository()

    async def redis_check() -> None:
        await redis.ping()

    async def queue_check() -> dict[str, Any]:
        return {"depth": await queue.depth()}

    health = HealthService({"mongo": database.ping, "redis": redis_check, "queue": queue_check},
                           version=s.version)
    namespace = f"muse:{s.mongodb_db}:"
    return Core(database=database, redis=redis, queue=queue, breaker=breaker, job_runs=job_runs,
                housekeeping=o.housekeeping or HousekeepingService(job_runs), health=health,
                health_controller=HealthController(health), namespace=namespace,
                job_events=RedisJobEvents(redis, channel=f"{namespace}job-events"))


# --- metrics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricsParts:
    metrics: Metrics
    metrics_service: MetricsService
    metrics_controller: MetricsController


def wire_metrics(s: Settings, o: Overrides, core: Core,
                 breaker_names: Callable[[], list[str]]) -> MetricsParts:
    """Prometheus counters (flushed to Redis, so /metrics shows every process) and gauges.

    `breaker_names` is read at scrape time (the provider lists are wired later)."""
    metrics = o.metrics or (RedisMetrics(core.redis, key=f"{core.namespace}metrics",
                                         flush_interval_s=s.metrics_flush_s)
                            if s.metrics_enabled else NoMetrics())
    if isinstance(metrics, RedisMetrics):
        metrics.start()
    breaker = core.breaker
    service = MetricsService(
        metrics if isinstance(metrics, RedisMetrics) else None,
        token=s.metrics_token.get_secret_value() if s.metrics_token else None,
        serve_without_token=not s.is_production,
        gauges=[queue_depth_gauge(core.queue.depth),
                breaker_gauge(lambda name: breaker.state(name), breaker_names)])
    return MetricsParts(metrics, service, MetricsController(service))


# --- live settings --------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveSettingsParts:
    known_providers: list[str]
    audit_log: BeanieAuditLogRepository
    live_settings: LiveSettingsService


def wire_live_settings(s: Settings) -> LiveSettingsParts:
    """Admin-editable switches (maintenance, features, providers) and their audit log."""
    builtin = ["gemini", "openai", "replicate", "local"]
    known = list(dict.fromkeys([*s.chat_providers, *s.image_providers, *s.video_providers, *builtin]))
    defaults = LiveSettings(signup_credits=s.signup_credits, providers=dict.fromkeys(known, True))
    audit_log = BeanieAuditLogRepository()
    return LiveSettingsParts(known, audit_log, LiveSettingsService(
        BeanieLiveSettingsRepository(), audit_log, defaults=defaults))


# --- credits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditsParts:
    catalog: Catalog
    credit_accounts: BeanieCreditAccountRepository
    ledger: BeanieLedgerRepository
    credits: CreditsService
    gift_codes: GiftCodeService
    key_spend: MongoKeySpendRepository
    idempotency: IdempotencyService
    plans_controller: PlansController
    credits_controller: CreditsController
    gift_codes_controller: GiftCodesController


def wire_credits(s: Settings, o: Overrides, live: LiveSettingsService, metrics: Metrics) -> CreditsParts:
    """Catalogue, credit accounts and ledger, gift codes, idempotency keys."""
    async def signup_credits() -> int:
        return (await live.current()).signup_credits  # admin-editable

    catalog = o.catalog or Catalog.default(s)
    accounts, ledger = BeanieCreditAccountRepository(), BeanieLedgerRepository()
    key_spend = MongoKeySpendRepository()
    credits = CreditsService(accounts, ledger, catalog, signup_credits=signup_credits,
                             reconcile_after_s=s.credits_reconcile_after_s, metrics=metrics,
                             key_spend=key_spend)
    gift_codes = GiftCodeService(BeanieGiftCodeRepository(), credits, catalog)
    return CreditsParts(
        catalog=catalog, credit_accounts=accounts, ledger=ledger, credits=credits, gift_codes=gift_codes,
        key_spend=key_spend,
        idempotency=IdempotencyService(BeanieIdempotencyRepository()),
        plans_controller=PlansController(catalog, paypal_plan_ids=s.paypal_plan_map,
                                         payment_providers=list(_payment_factories(s, o))),
        credits_controller=CreditsController(credits),
        gift_codes_controller=GiftCodesController(gift_codes, credits))


# --- own accounts: sessions (AUTH_PROVIDER=local, issue 18) -----------------------------------


@dataclass(frozen=True)
class SessionsParts:
    sessions: SessionService | None
    session_signer: RsaSessionTokenSigner | None


async def wire_sessions(s: Settings, core: Core) -> SessionsParts:
    """Muse's own sessions: the signing key and session records (None unless local accounts are on)."""
    if not s.local_accounts:
        return SessionsParts(None, None)
    pem = s.auth_jwt_private_key.get_secret_value() if s.auth_jwt_private_key else None
    if pem is None:  # outside production (which requires AUTH_JWT_PRIVATE_KEY): the var/ key pair
        pem = (await asyncio.to_thread(ensure_dev_key_pair, s.var_dir))[0]
    signer = RsaSessionTokenSigner(pem)
    cache = TombstoneCache(core.redis, prefix=f"{core.namespace}session:")
    return SessionsParts(SessionService(CachedSessionRepository(BeanieSessionRepository(), cache), signer,
                                        access_ttl_s=s.auth_access_token_ttl_s,
                                        session_ttl_s=s.auth_session_ttl_s), signer)


# --- identity -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityParts:
    dev_tokens: bool
    users: UserService
    api_keys: ApiKeyService
    webhook_events: BeanieWebhookEventRepository
    token_verifier: TokenVerifier | None
    auth: AuthService
    rate_limiter: RateLimiter
    clerk_events: ClerkEventService
    clerk_webhooks_controller: ClerkWebhooksController
    me_controller: MeController
    api_keys_controller: ApiKeysController


def _model_names(s: Settings, catalog: Catalog) -> list[str]:
    """Every model name a request may ask for: chat models, `default` and each image/video provider."""
    return sorted({"default", *(m.name for m in catalog.models), *s.image_providers, *s.video_providers})


async def wire_identity(s: Settings, o: Overrides, core: Core, credits: CreditsService,
                        sessions: SessionsParts, parts: CreditsParts | None = None) -> IdentityParts:
    """Users, API keys, Clerk sign-in and webhooks, rate limits."""
    secret = s.clerk_secret_key.get_secret_value() if s.clerk_secret_key else None
    jwt_key, dev_tokens = s.clerk_jwt_key, False
    if s.app_env == "development" and not (jwt_key or secret):
        jwt_key, dev_tokens = (await asyncio.to_thread(ensure_dev_key_pair, s.var_dir))[1], True
    ns = core.namespace
    users = UserService(CachedUserRepository(
        BeanieUserRepository(), TombstoneCache(core.redis, prefix=ns + "user:")),
                        admin_clerk_ids=s.admin_user_ids, on_created=[credits.grant_signup])
    api_keys = ApiKeyService(
        CachedApiKeyRepository(BeanieApiKeyRepository(), TombstoneCache(core.redis, prefix=ns + "apikey:")),
        spend=parts.key_spend if parts else None,
        known_models=(lambda: _model_names(s, parts.catalog)) if parts else None)
    webhook_events = BeanieWebhookEventRepository()
    verifier: TokenVerifier | None = o.token_verifier
    if verifier is None and sessions.sessions is not None and sessions.session_signer is not None:
        verifier = SessionVerifier(ClerkTokenVerifier(jwt_key=sessions.session_signer.public_pem),
                                   sessions.sessions, allow_foreign=dev_tokens)
    elif verifier is None and (jwt_key or secret):
        verifier = ClerkTokenVerifier(jwt_key=jwt_key, secret_key=secret, api_url=s.clerk_api_url,
                                      authorized_parties=s.clerk_authorized_parties)
    rapid = s.rapidapi_proxy_secret.get_secret_value() if s.rapidapi_proxy_secret else None
    profiles = ClerkUsersClient(secret_key=secret, api_url=s.clerk_api_url) if secret else None
    auth = AuthService(users, api_keys, verifier, rapidapi_secret=rapid, dev_claims=dev_tokens,
                       profiles=profiles)
    upstash = s.upstash_redis_rest_token.get_secret_value() if s.upstash_redis_rest_token else ""
    buckets = (UpstashBucketStore(s.upstash_redis_rest_url, upstash) if s.upstash_redis_rest_url
               else RedisBucketStore(core.redis))
    hook_secret = s.clerk_webhook_secret.get_secret_value() if s.clerk_webhook_secret else None
    clerk_events = ClerkEventService(users, api_keys, webhook_events,
                                     ClerkWebhookVerifier(hook_secret) if hook_secret else None)
    return IdentityParts(
        dev_tokens=dev_tokens, users=users, api_keys=api_keys, webhook_events=webhook_events,
        token_verifier=verifier, auth=auth,
        rate_limiter=RateLimiter(buckets, limits_from(s.rate_limit_plans), prefix=ns + "rl:"),
        clerk_events=clerk_events, clerk_webhooks_controller=ClerkWebhooksController(clerk_events),
        me_controller=MeController(users, credits), api_keys_controller=ApiKeysController(api_keys))


# --- own accounts: email + password (issue 18) ------------------------------------------------


@dataclass(frozen=True)
class AccountsParts:
    outbox: RedisOutbox | None
    mailer: EmailSender | None
    accounts: AccountService | None
    accounts_controller: AccountsController
    dev_outbox_controller: DevOutboxController


def wire_accounts(s: Settings, o: Overrides, core: Core, sessions: SessionsParts,
                  users: UserService) -> AccountsParts:
    """Email-and-password accounts, the mail port and the development outbox."""
    sender = s.mail_from or "Muse <no-reply@localhost>"
    outbox = None if s.smtp_url else RedisOutbox(core.redis, key=core.namespace + "outbox", sender=sender)
    mailer: EmailSender | None = o.mailer or (
        SmtpEmailSender(s.smtp_url.get_secret_value(), sender=sender) if s.smtp_url else outbox)
    accounts = None
    if sessions.sessions is not None and mailer is not None:
        window = s.auth_login_window_s
        throttle = LoginThrottle(
            RedisBucketStore(core.redis), prefix=core.namespace + "login:",
            ip=Limit(s.auth_login_ip_limit, s.auth_login_ip_limit / window),
            account=Limit(s.auth_login_account_limit, s.auth_login_account_limit / window))
        hasher = Argon2PasswordHasher(time_cost=s.auth_argon2_time_cost, memory_kib=s.auth_argon2_memory_kib,
                                      parallelism=s.auth_argon2_parallelism)
        accounts = AccountService(
            BeanieAccountRepository(), BeanieOneTimeTokenRepository(), sessions.sessions, users, hasher,
            PasswordPolicy(load_common_passwords()), throttle, mailer, base_url=s.public_base_url)
    return AccountsParts(
        outbox, mailer, accounts,
        AccountsController(accounts, secure_cookie=s.app_env != "development",
                           cookie_max_age_s=s.auth_session_ttl_s),
        DevOutboxController(outbox, enabled=s.app_env == "development"))


# --- chat ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatParts:
    chat_providers: list[ChatProvider]
    chat_cache: ChatCache
    chat: ChatService
    chat_stream: ChatStreamService
    chat_controller: ChatController


def wire_chat(s: Settings, o: Overrides, core: Core, credits: CreditsParts,
              live: LiveSettingsService, metrics: Metrics) -> ChatParts:
    """Chat providers with failover, the response cache, conversations."""
    providers = instrument_chat(
        list(o.chat_providers) if o.chat_providers is not None else build_chat_providers(s), metrics)
    store: KeyValueStore
    if s.upstash_redis_rest_url and s.upstash_redis_rest_token:
        store = UpstashKeyValueStore.from_url(s.upstash_redis_rest_url,
                                              s.upstash_redis_rest_token.get_secret_value())
    else:
        store = RedisKeyValueStore(core.redis)
    cache = ChatCache(store, ttl_s=s.cache_ttl_s)
    catalog = credits.catalog
    chat = ChatService(
        providers=providers, conversations=BeanieConversationRepository(), cache=cache, breaker=core.breaker,
        credits=credits.credits, price=lambda: int(catalog.prices["chat"]), models=lambda: catalog.models,
        live_settings=live, timeout_s=s.ai_timeout_s, max_chars=s.chat_max_chars, metrics=metrics)
    streams = ChatStreamService(chat)

    def render_problem(error: AppError, request_id: str | None) -> dict[str, Any]:
        return problem_body(error, status=status_of(error), base_url=s.public_base_url, request_id=request_id)

    return ChatParts(providers, cache, chat, streams,
                     ChatController(chat, streams, render_problem=render_problem))


# --- images -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImagesParts:
    image_storage: StorageProvider
    image_provider_list: list[ImageProvider]
    image_repository: PublishingRepository
    image_jobs: ImageJobRunner
    images: ImageService
    vision: VisionService
    images_controller: ImagesController
    media_controller: MediaController
    openai_controller: OpenAIController


def wire_images(s: Settings, o: Overrides, core: Core, credits: CreditsParts, live: LiveSettingsService,
                chat: ChatParts, metrics: Metrics) -> ImagesParts:
    """Image jobs (generate, edit) with failover, media storage, describe (vision)."""
    storage = o.image_storage or build_storage(s)
    providers = instrument_images(
        list(o.image_providers) if o.image_providers is not None else build_image_providers(s), metrics)
    repository = PublishingRepository(BeanieImageRepository(), core.job_events, topic=ImageService.topic)

    async def image_chain() -> list[ImageProvider]:
        return await live.enabled(providers)

    runner = ImageJobRunner(images=repository, storage=storage, providers=image_chain,
                            credits=credits.credits, breaker=core.breaker, timeout_s=s.image_timeout_s)
    images = ImageService(
        images=repository, storage=storage, runner=runner, queue=core.queue, credits=credits.credits,
        catalog=credits.catalog, live_settings=live, provider_names=[p.name for p in providers],
        events=core.job_events, ttl_h=s.temp_media_ttl_h, timeout_s=s.image_timeout_s)
    vision = VisionService(providers=chat.chat.chain, credits=credits.credits, catalog=credits.catalog,
                           live_settings=live, breaker=core.breaker, timeout_s=s.ai_timeout_s)
    max_bytes = int(s.max_upload_mb * 1024 * 1024)

    async def fetch_url(url: str) -> bytes:
        return await fetch_remote_image(url, max_bytes=max_bytes, allow_private=not s.is_production)

    controller = ImagesController(images, vision, max_upload_mb=s.max_upload_mb, status_of=status_of,
                                  fetch_url=fetch_url)
    openai = OpenAIController(chat.chat, chat.chat_stream, images, credits.catalog,  # /v1 (contract §12)
                              max_upload_mb=s.max_upload_mb, status_of=status_of)
    return ImagesParts(storage, providers, repository, runner, images, vision, controller,
                       MediaController(storage), openai)


# --- videos -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideosParts:
    video_provider_list: list[VideoProvider]
    video_repository: PublishingRepository
    video_jobs: VideoJobRunner
    videos: VideoService
    videos_controller: VideosController


def wire_videos(s: Settings, o: Overrides, core: Core, credits: CreditsParts, live: LiveSettingsService,
                images: ImagesParts, metrics: Metrics) -> VideosParts:
    """Video jobs: the image job machinery (records, failover, charging, storage, expiry, events)
    with the video providers."""
    providers = instrument_videos(
        list(o.video_providers) if o.video_providers is not None else build_video_providers(s), metrics)
    repository = PublishingRepository(BeanieImageRepository(VideoDocument), core.job_events,
                                      topic=VideoService.topic)

    async def video_chain() -> list[VideoProvider]:
        return await live.enabled(providers)

    runner = VideoJobRunner(images=repository, storage=images.image_storage, providers=video_chain,
                            credits=credits.credits, breaker=core.breaker, timeout_s=s.video_timeout_s)
    videos = VideoService(
        sources=images.images, images=repository, storage=images.image_storage, runner=runner,
        queue=core.queue, credits=credits.credits, catalog=credits.catalog, live_settings=live,
        provider_names=[p.name for p in providers], events=core.job_events, ttl_h=s.temp_media_ttl_h,
        timeout_s=s.video_timeout_s)
    return VideosParts(providers, repository, runner, videos, VideosController(videos, status_of=status_of))


# --- payments -----------------------------------------------------------------------------


def _payment_factories(s: Settings, o: Overrides) -> dict[str, Callable[[], PaymentsProvider]]:
    """The configured payment processors, in PAYMENT_PROVIDERS order (contract §14), unbuilt."""
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
    if (override := o.payments_provider) is not None:  # a test's adapter replaces PayPal's
        ordered.pop("paypal", None)
        return {override.name: lambda: override, **ordered}
    return ordered


@dataclass(frozen=True)
class PaymentsParts:
    payments_provider: PaymentsProvider | None
    payment_providers: PaymentProviders
    payment_records: BeaniePaymentRepository
    payments: PaymentService
    subscriptions: SubscriptionService
    paypal_webhooks: PaymentWebhookService
    payment_reconciler: PaymentReconciler
    payments_controller: PaymentsController
    subscriptions_controller: SubscriptionsController
    paypal_webhooks_controller: PayPalWebhooksController
    stripe_webhooks: PaymentWebhookService
    stripe_controller: StripeController


def wire_payments(s: Settings, o: Overrides, credits: CreditsParts, identity: IdentityParts) -> PaymentsParts:
    """Credit-pack checkout, subscriptions, payment webhooks and the reconcile job."""
    providers = PaymentProviders([build() for build in _payment_factories(s, o).values()])
    records, customers = BeaniePaymentRepository(), PaymentCustomers(BeanieCustomerRepository())
    payments = PaymentService(records, providers, credits.catalog, credits.credits, customers,
                              api_base=f"{s.public_base_url}/api/v1/payments",
                              success_redirect=s.checkout_success_url, cancel_redirect=s.checkout_cancel_url,
                              portal_return_url=f"{s.public_base_url}/")
    subscriptions = SubscriptionService(BeanieSubscriptionRepository(), providers, credits.catalog,
                                        identity.users, customers, return_url=s.checkout_success_url,
                                        cancel_url=s.checkout_cancel_url)
    paypal = providers.find(o.payments_provider.name if o.payments_provider else "paypal")
    stripe_webhooks = PaymentWebhookService(providers.find("stripe"), identity.webhook_events, payments,
                                            subscriptions)
    reconciler = PaymentReconciler(records, payments, older_than_s=s.payments_reconcile_after_s,
                                   expire_after_s=s.payments_expire_after_s, batch=s.payments_reconcile_batch)
    paypal_webhooks = PaymentWebhookService(paypal, identity.webhook_events, payments, subscriptions)
    return PaymentsParts(
        payments_provider=paypal, payment_providers=providers, payment_records=records, payments=payments,
        subscriptions=subscriptions, paypal_webhooks=paypal_webhooks, payment_reconciler=reconciler,
        payments_controller=PaymentsController(payments, credits.credits),
        subscriptions_controller=SubscriptionsController(subscriptions),
        paypal_webhooks_controller=PayPalWebhooksController(paypal_webhooks),
        stripe_webhooks=stripe_webhooks, stripe_controller=StripeController(stripe_webhooks, payments))


# --- web app: share links, development sign-in, client configuration (contract §11) -----------


@dataclass(frozen=True)
class WebParts:
    shares: ShareService
    shares_controller: SharesController
    dev_controller: DevController


async def wire_web(s: Settings, identity: IdentityParts, images: ImagesParts) -> WebParts:
    """Share links, the development sign-in and what the web client needs to know of this deployment."""
    shares = ShareService(BeanieShareRepository(), images.images, images.image_repository,
                          base_url=s.public_base_url)
    private_pem = None
    if identity.dev_tokens:
        private_pem = (await asyncio.to_thread(ensure_dev_key_pair, s.var_dir))[0]
    clerk = bool(s.clerk_publishable_key or s.clerk_secret_key or s.clerk_jwt_key)
    provider = "local" if s.local_accounts else "clerk" if clerk else "none"
    if identity.dev_tokens and provider != "local":
        provider = "dev"
    dev = DevController(
        private_pem, azp=s.clerk_authorized_parties[0] if s.clerk_authorized_parties else None,
        client_config={"app_env": s.app_env, "max_upload_mb": s.max_upload_mb,
                       "auth": {"provider": provider, "clerk_publishable_key": s.clerk_publishable_key}})
    return WebParts(shares, SharesController(shares), dev)


# --- admin --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminParts:
    admin_stats_repository: MongoAdminStatsRepository
    admin: AdminService
    admin_stats: AdminStatsService
    admin_settings_controller: AdminSettingsController
    admin_users_controller: AdminUsersController


def wire_admin(core: Core, live: LiveSettingsParts, credits: CreditsParts, identity: IdentityParts,
               images: ImagesParts) -> AdminParts:
    """Admin users, credit adjustments, live settings and stats."""
    catalog = credits.catalog
    stats_repository = MongoAdminStatsRepository(core.database.db)
    admin = AdminService(identity.users, live.audit_log, stats_repository, credits=credits.credits,
                         plan_role=lambda name: catalog.plan_or_raise(name).role)
    kinds = {name: [kind for kind, adapters in (("chat", CHAT_ADAPTERS), ("image", IMAGE_ADAPTERS))
                    if name in adapters] for name in live.known_providers}
    stats = AdminStatsService(stats_repository, live.live_settings, providers=live.known_providers,
                              breaker=core.breaker, provider_kinds=kinds,
                              image_providers=[p.name for p in images.image_provider_list],
                              settle=credits.credits.settle)
    return AdminParts(stats_repository, admin, stats, AdminSettingsController(live.live_settings, admin),
                      AdminUsersController(admin, stats))


# --- the container --------------------------------------------------------------------------


class Container:
    """Everything a web or worker process needs, built once per process by `start()`."""

    # core
    database: MongoDatabase
    redis: ArqRedis
    queue: ArqJobQueue
    breaker: CircuitBreaker
    job_runs: BeanieJobRunRepository
    housekeeping: Housekeeping
    health: HealthService
    health_controller: HealthController
    job_events: RedisJobEvents
    # metrics
    metrics: Metrics
    metrics_service: MetricsService
    metrics_controller: MetricsController
    # live settings
    known_providers: list[str]
    audit_log: BeanieAuditLogRepository
    live_settings: LiveSettingsService
    # credits
    catalog: Catalog
    credit_accounts: BeanieCreditAccountRepository
    ledger: BeanieLedgerRepository
    credits: CreditsService
    gift_codes: GiftCodeService
    idempotency: IdempotencyService
    plans_controller: PlansController
    credits_controller: CreditsController
    gift_codes_controller: GiftCodesController
    # identity
    dev_tokens: bool
    users: UserService
    api_keys: ApiKeyService
    webhook_events: BeanieWebhookEventRepository
    token_verifier: TokenVerifier | None
    auth: AuthService
    rate_limiter: RateLimiter
    clerk_events: ClerkEventService
    clerk_webhooks_controller: ClerkWebhooksController
    me_controller: MeController
    api_keys_controller: ApiKeysController
    # own accounts
    sessions: SessionService | None
    session_signer: RsaSessionTokenSigner | None
    outbox: RedisOutbox | None
    mailer: EmailSender | None
    accounts: AccountService | None
    accounts_controller: AccountsController
    dev_outbox_controller: DevOutboxController
    # chat
    chat_providers: list[ChatProvider]
    chat_cache: ChatCache
    chat: ChatService
    chat_stream: ChatStreamService
    chat_controller: ChatController
    # images
    image_storage: StorageProvider
    image_provider_list: list[ImageProvider]
    image_repository: PublishingRepository
    image_jobs: ImageJobRunner
    images: ImageService
    vision: VisionService
    images_controller: ImagesController
    media_controller: MediaController
    openai_controller: OpenAIController
    # videos
    video_provider_list: list[VideoProvider]
    video_repository: PublishingRepository
    video_jobs: VideoJobRunner
    videos: VideoService
    videos_controller: VideosController
    # payments
    payments_provider: PaymentsProvider | None
    payment_records: BeaniePaymentRepository
    payments: PaymentService
    subscriptions: SubscriptionService
    paypal_webhooks: PaymentWebhookService
    payment_reconciler: PaymentReconciler
    payments_controller: PaymentsController
    subscriptions_controller: SubscriptionsController
    paypal_webhooks_controller: PayPalWebhooksController
    payment_providers: PaymentProviders
    stripe_webhooks: PaymentWebhookService
    stripe_controller: StripeController
    # web app
    shares: ShareService
    shares_controller: SharesController
    dev_controller: DevController
    # admin
    admin_stats_repository: MongoAdminStatsRepository
    admin: AdminService
    admin_stats: AdminStatsService
    admin_settings_controller: AdminSettingsController
    admin_users_controller: AdminUsersController

    def __init__(self, settings: Settings, overrides: Overrides | None = None) -> None:
        self.settings = settings
        self.overrides = overrides or Overrides()
        self.embedded = EmbeddedStack()
        self.started = False

    async def start(self) -> None:
        """Connect to MongoDB and Redis (embedded in development when unset), then wire every feature."""
        if self.started:
            return
        if not self.settings.is_production and not (self.settings.mongodb_uri and self.settings.redis_url):
            urls = await asyncio.to_thread(start_missing, self.settings, self.embedded)
            self.settings = self.settings.model_copy(update=urls)
            log.info("embedded_servers_started", **urls)
        await self._wire()
        self.started = True

    async def _wire(self) -> None:
        s, o = self.settings, self.overrides
        core = await wire_core(s, o)
        self.database = core.database
        self.redis = core.redis
        self.queue = core.queue
        self.breaker = core.breaker
        self.job_runs = core.job_runs
        self.housekeeping = core.housekeeping
        self.health = core.health
        self.health_controller = core.health_controller
        self.job_events = core.job_events

        def breaker_names() -> list[str]:  # read at scrape time, once the providers are wired
            images = [breaker_name(p.name) for p in self.image_provider_list]
            videos = [video_breaker_name(p.name) for p in self.video_provider_list]
            return [p.name for p in self.chat_providers] + images + videos

        metrics = wire_metrics(s, o, core, breaker_names)
        self.metrics = metrics.metrics
        self.metrics_service = metrics.metrics_service
        self.metrics_controller = metrics.metrics_controller

        live = wire_live_settings(s)
        self.known_providers = live.known_providers
        self.audit_log = live.audit_log
        self.live_settings = live.live_settings

        credits = wire_credits(s, o, live.live_settings, self.metrics)
        self.catalog = credits.catalog
        self.credit_accounts = credits.credit_accounts
        self.ledger = credits.ledger
        self.credits = credits.credits
        self.gift_codes = credits.gift_codes
        self.idempotency = credits.idempotency
        self.plans_controller = credits.plans_controller
        self.credits_controller = credits.credits_controller
        self.gift_codes_controller = credits.gift_codes_controller

        sessions = await wire_sessions(s, core)
        self.sessions = sessions.sessions
        self.session_signer = sessions.session_signer

        identity = await wire_identity(s, o, core, credits.credits, sessions, credits)
        self.dev_tokens = identity.dev_tokens
        self.users = identity.users
        self.api_keys = identity.api_keys
        self.webhook_events = identity.webhook_events
        self.token_verifier = identity.token_verifier
        self.auth = identity.auth
        self.rate_limiter = identity.rate_limiter
        self.clerk_events = identity.clerk_events
        self.clerk_webhooks_controller = identity.clerk_webhooks_controller
        self.me_controller = identity.me_controller
        self.api_keys_controller = identity.api_keys_controller

        accounts = wire_accounts(s, o, core, sessions, identity.users)
        self.outbox = accounts.outbox
        self.mailer = accounts.mailer
        self.accounts = accounts.accounts
        self.accounts_controller = accounts.accounts_controller
        self.dev_outbox_controller = accounts.dev_outbox_controller

        chat = wire_chat(s, o, core, credits, live.live_settings, self.metrics)
        self.chat_providers = chat.chat_providers
        self.chat_cache = chat.chat_cache
        self.chat = chat.chat
        self.chat_stream = chat.chat_stream
        self.chat_controller = chat.chat_controller

        images = wire_images(s, o, core, credits, live.live_settings, chat, self.metrics)
        self.image_storage = images.image_storage
        self.image_provider_list = images.image_provider_list
        self.image_repository = images.image_repository
        self.image_jobs = images.image_jobs
        self.images = images.images
        self.vision = images.vision
        self.images_controller = images.images_controller
        self.media_controller = images.media_controller
        self.openai_controller = images.openai_controller

        videos = wire_videos(s, o, core, credits, live.live_settings, images, self.metrics)
        self.video_provider_list = videos.video_provider_list
        self.video_repository = videos.video_repository
        self.video_jobs = videos.video_jobs
        self.videos = videos.videos
        self.videos_controller = videos.videos_controller

        payments = wire_payments(s, o, credits, identity)
        self.payments_provider = payments.payments_provider
        self.payment_records = payments.payment_records
        self.payments = payments.payments
        self.subscriptions = payments.subscriptions
        self.paypal_webhooks = payments.paypal_webhooks
        self.payment_reconciler = payments.payment_reconciler
        self.payments_controller = payments.payments_controller
        self.subscriptions_controller = payments.subscriptions_controller
        self.paypal_webhooks_controller = payments.paypal_webhooks_controller
        self.payment_providers = payments.payment_providers
        self.stripe_webhooks = payments.stripe_webhooks
        self.stripe_controller = payments.stripe_controller

        web = await wire_web(s, identity, images)
        self.shares = web.shares
        self.shares_controller = web.shares_controller
        self.dev_controller = web.dev_controller

        admin = wire_admin(core, live, credits, identity, images)
        self.admin_stats_repository = admin.admin_stats_repository
        self.admin = admin.admin
        self.admin_stats = admin.admin_stats
        self.admin_settings_controller = admin.admin_settings_controller
        self.admin_users_controller = admin.admin_users_controller

    async def stop(self) -> None:
        """Close connections and stop embedded servers."""
        if not self.started:
            return
        self.started = False
        await self.credits.settle()  # write the ledger entries of this process's last charges
        for provider in self.chat_providers:
            await provider.aclose()
        store = self.chat_cache.store
        if isinstance(store, UpstashKeyValueStore):  # the Upstash REST client owns an HTTP session
            await store.aclose()
        if self.accounts is not None:
            await self.accounts.aclose()
        stripe = self.payment_providers.find("stripe")
        if (aclose := getattr(stripe, "aclose", None)) is not None:  # the SDK's httpx client owns connections
            await aclose()
        if isinstance(self.metrics, RedisMetrics):
            await self.metrics.stop()  # flushes this process's last increments
        await self.rate_limiter.close()
        await self.job_events.aclose()
        await self.redis.aclose()
        await self.database.close()
        await asyncio.to_thread(self.embedded.stop)
