"""Composition root: builds repositories, providers, services and controllers once.

`Container(settings, **overrides)` is cheap to construct; `await start()`
connects (starting embedded servers in development when no URL is set) and
wires everything. Any attribute can be passed in `overrides` to replace the
default (tests pass their own fakes).
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from app.config import Settings
from app.embedded import EmbeddedStack, start_missing

log = structlog.stdlib.get_logger("muse.bootstrap")


class Container:
    """Everything a web or worker process needs, built once per process."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.settings = settings
        self._overrides = overrides
        self.embedded = EmbeddedStack()
        self.started = False

    def _pick(self, name: str, factory: Any) -> Any:
        value = self._overrides[name] if name in self._overrides else factory()
        setattr(self, name, value)
        return value

    async def start(self) -> None:
        """Connect to MongoDB and Redis, initialise Beanie and wire the services."""
        if self.started:
            return
        if not self.settings.is_production and not (self.settings.mongodb_uri and self.settings.redis_url):
            urls = await asyncio.to_thread(start_missing, self.settings, self.embedded)
            self.settings = self.settings.model_copy(update=urls)
            log.info("embedded_servers_started", **urls)
        await self._wire()
        self.started = True

    async def _wire(self) -> None:
        # Each feature wires itself in its own method, in dependency order.
        await self._wire_core()
        await self._wire_metrics()
        await self._wire_live_settings()
        await self._wire_credits()
        await self._wire_sessions()
        await self._wire_identity()
        await self._wire_accounts()
        await self._wire_chat()
        await self._wire_images()
        await self._wire_payments()
        await self._wire_admin()
        await self._wire_web()

    async def _wire_core(self) -> None:
        from controllers.health import HealthController
        from repositories.database import MongoDatabase
        from repositories.job_runs import BeanieJobRunRepository
        from repositories.queue import ArqJobQueue
        from repositories.redis_client import connect_redis
        from services.health import HealthService
        from services.housekeeping import HousekeepingService

        s = self.settings
        self.database = self._pick("database", lambda: MongoDatabase(
            s.mongodb_uri, s.mongodb_db, timeout_s=s.mongodb_timeout_s))
        await self.database.init()
        self.redis = self._pick("redis", lambda: connect_redis(s.redis_url, timeout_s=s.redis_timeout_s))
        self.queue = self._pick("queue", lambda: ArqJobQueue(self.redis, s.queue_name))
        self.job_runs = self._pick("job_runs", BeanieJobRunRepository)
        self.housekeeping = self._pick("housekeeping", lambda: HousekeepingService(self.job_runs))
        self.health = self._pick("health", lambda: HealthService(
            {"mongo": self.database.ping, "redis": self._redis_check, "queue": self._queue_check},
            version=s.version))
        self.health_controller = HealthController(self.health)

    async def _wire_metrics(self) -> None:
        from controllers.metrics import MetricsController
        from providers.metrics import RedisMetrics
        from services.image_jobs import breaker_name
        from services.metrics import MetricsService, breaker_gauge, queue_depth_gauge
        from services.ports.metrics import NoMetrics

        s = self.settings
        exporter = RedisMetrics(self.redis, key=f"muse:{s.mongodb_db}:metrics",
                                flush_interval_s=s.metrics_flush_s)
        self.metrics = self._pick("metrics", lambda: exporter if s.metrics_enabled else NoMetrics())
        if isinstance(self.metrics, RedisMetrics):
            self.metrics.start()

        def breaker_names() -> list[str]:  # read at scrape time: the provider lists are wired later
            images = [breaker_name(p.name) for p in self.image_provider_list]
            return [p.name for p in self.chat_providers] + images

        self.metrics_service = MetricsService(
            self.metrics if isinstance(self.metrics, RedisMetrics) else None,
            token=s.metrics_token.get_secret_value() if s.metrics_token else None,
            serve_without_token=not s.is_production,
            gauges=[queue_depth_gauge(self.queue.depth),
                    breaker_gauge(lambda name: self.breaker.state(name), breaker_names)])
        self.metrics_controller = MetricsController(self.metrics_service)

    async def _wire_live_settings(self) -> None:
        from repositories.audit_log import BeanieAuditLogRepository
        from repositories.live_settings import BeanieLiveSettingsRepository
        from services.live_settings import LiveSettings, LiveSettingsService

        s = self.settings
        self.known_providers = list(dict.fromkeys(
            [*s.chat_providers, *s.image_providers, "gemini", "openai", "replicate", "local"]))
        defaults = LiveSettings(signup_credits=s.signup_credits,
                                providers=dict.fromkeys(self.known_providers, True))
        self.audit_log = self._pick("audit_log", BeanieAuditLogRepository)
        self.live_settings = self._pick("live_settings", lambda: LiveSettingsService(
            BeanieLiveSettingsRepository(), self.audit_log, defaults=defaults))

    async def _wire_web(self) -> None:
        """Share links, development sign-in and the web client's configuration (contract §11)."""
        from controllers.dev import DevController
        from controllers.shares import SharesController
        from repositories.shares import BeanieShareRepository
        from services.auth_keys import ensure_dev_key_pair
        from services.shares import ShareService

        s = self.settings
        self.shares = self._pick("shares", lambda: ShareService(
            BeanieShareRepository(), self.images, self.image_repository, base_url=s.public_base_url))
        self.shares_controller = SharesController(self.shares)
        private_pem = None
        if self.dev_tokens:
            private_pem = (await asyncio.to_thread(ensure_dev_key_pair, s.var_dir))[0]
        provider = getattr(s, "auth_provider", None)  # Muse's own accounts (contract §17) when present
        if provider is None:
            provider = ("clerk" if (s.clerk_publishable_key or s.clerk_secret_key or s.clerk_jwt_key)
                        else "dev" if self.dev_tokens else "none")
        if self.dev_tokens and provider == "clerk":
            provider = "dev"
        self.dev_controller = DevController(
            private_pem, azp=s.clerk_authorized_parties[0] if s.clerk_authorized_parties else None,
            client_config={"app_env": s.app_env, "max_upload_mb": s.max_upload_mb,
                           "auth": {"provider": provider, "clerk_publishable_key": s.clerk_publishable_key}})

    async def _wire_admin(self) -> None:
        from controllers.admin_settings import AdminSettingsController
        from controllers.admin_users import AdminUsersController
        from repositories.admin_stats import MongoAdminStatsRepository
        from services.admin import AdminService
        from services.admin_stats import AdminStatsService

        self.admin_stats_repository = self._pick(
            "admin_stats_repository", lambda: MongoAdminStatsRepository(self.database.db))
        self.admin = self._pick("admin", lambda: AdminService(
            self.users, self.audit_log, self.admin_stats_repository, credits=self.credits,
            plan_role=lambda name: self.catalog.plan_or_raise(name).role))
        self.admin_stats = self._pick("admin_stats", lambda: AdminStatsService(
            self.admin_stats_repository, self.live_settings, providers=self.known_providers,
            breaker=self.breaker, image_providers=[p.name for p in self.image_provider_list]))
        self.admin_settings_controller = AdminSettingsController(self.live_settings, self.admin)
        self.admin_users_controller = AdminUsersController(self.admin, self.admin_stats)

    async def _wire_identity(self) -> None:
        from controllers.api_keys import ApiKeysController
        from controllers.clerk_webhooks import ClerkWebhooksController
        from controllers.me import MeController
        from providers.clerk import ClerkTokenVerifier, ClerkUsersClient, ClerkWebhookVerifier
        from repositories.api_keys import BeanieApiKeyRepository, CachedApiKeyRepository
        from repositories.rate_limit import RedisBucketStore, UpstashBucketStore
        from repositories.users import BeanieUserRepository, CachedUserRepository, TombstoneCache
        from repositories.webhook_events import BeanieWebhookEventRepository
        from services.api_keys import ApiKeyService
        from services.auth import AuthService
        from services.auth_keys import ensure_dev_key_pair
        from services.auth_webhooks import ClerkEventService
        from services.rate_limit import RateLimiter, limits_from
        from services.sessions import SessionVerifier
        from services.users import UserService

        s = self.settings
        secret = s.clerk_secret_key.get_secret_value() if s.clerk_secret_key else None
        jwt_key, self.dev_tokens = s.clerk_jwt_key, False
        if s.app_env == "development" and not (jwt_key or secret):
            jwt_key, self.dev_tokens = (await asyncio.to_thread(ensure_dev_key_pair, s.var_dir))[1], True
        ns = f"muse:{s.mongodb_db}:"  # Redis keys of this deployment (one Redis may serve several)
        self.users = self._pick("users", lambda: UserService(CachedUserRepository(
            BeanieUserRepository(), TombstoneCache(self.redis, prefix=ns + "user:")),
            admin_clerk_ids=s.admin_user_ids, on_created=[self.credits.grant_signup]))
        self.api_keys = self._pick("api_keys", lambda: ApiKeyService(CachedApiKeyRepository(
            BeanieApiKeyRepository(), TombstoneCache(self.redis, prefix=ns + "apikey:"))))
        self.webhook_events = self._pick("webhook_events", BeanieWebhookEventRepository)
        self.token_verifier = self._pick("token_verifier", lambda: SessionVerifier(
            ClerkTokenVerifier(jwt_key=self.session_signer.public_pem), self.sessions,
            allow_foreign=self.dev_tokens) if self.sessions else ClerkTokenVerifier(
            jwt_key=jwt_key, secret_key=secret, api_url=s.clerk_api_url,
            authorized_parties=s.clerk_authorized_parties) if (jwt_key or secret) else None)
        rapid = s.rapidapi_proxy_secret.get_secret_value() if s.rapidapi_proxy_secret else None
        self.auth = self._pick("auth", lambda: AuthService(
            self.users, self.api_keys, self.token_verifier,
            rapidapi_secret=rapid, dev_claims=self.dev_tokens,
            profiles=ClerkUsersClient(secret_key=secret, api_url=s.clerk_api_url) if secret else None))
        upstash = s.upstash_redis_rest_token.get_secret_value() if s.upstash_redis_rest_token else ""
        self.rate_limiter = self._pick("rate_limiter", lambda: RateLimiter(
            UpstashBucketStore(s.upstash_redis_rest_url, upstash) if s.upstash_redis_rest_url
            else RedisBucketStore(self.redis), limits_from(s.rate_limit_plans), prefix=ns + "rl:"))
        hook_secret = s.clerk_webhook_secret.get_secret_value() if s.clerk_webhook_secret else None
        self.clerk_events = ClerkEventService(
            self.users, self.api_keys, self.webhook_events,
            ClerkWebhookVerifier(hook_secret) if hook_secret else None)
        self.clerk_webhooks_controller = ClerkWebhooksController(self.clerk_events)
        self.me_controller = MeController(self.users, self.credits)
        self.api_keys_controller = ApiKeysController(self.api_keys)

    async def _wire_sessions(self) -> None:
        """Muse's own sessions (AUTH_PROVIDER=local, issue 18): the signing key and session records."""
        from providers.session_tokens import RsaSessionTokenSigner
        from repositories.accounts import BeanieSessionRepository, CachedSessionRepository
        from repositories.users import TombstoneCache
        from services.auth_keys import ensure_dev_key_pair
        from services.sessions import SessionService

        s = self.settings
        self.sessions = None
        if not s.local_accounts:
            return
        pem = s.auth_jwt_private_key.get_secret_value() if s.auth_jwt_private_key else None
        if pem is None:  # outside production (which requires AUTH_JWT_PRIVATE_KEY): the var/ key pair
            pem = (await asyncio.to_thread(ensure_dev_key_pair, s.var_dir))[0]
        self.session_signer = RsaSessionTokenSigner(pem)
        cache = TombstoneCache(self.redis, prefix=f"muse:{s.mongodb_db}:session:")
        self.sessions = self._pick("sessions", lambda: SessionService(
            CachedSessionRepository(BeanieSessionRepository(), cache), self.session_signer,
            access_ttl_s=s.auth_access_token_ttl_s, session_ttl_s=s.auth_session_ttl_s))

    async def _wire_accounts(self) -> None:
        """Email-and-password accounts, the mail port and the development outbox (issue 18)."""
        from controllers.accounts import AccountsController
        from controllers.dev_outbox import DevOutboxController
        from providers.argon2_hasher import Argon2PasswordHasher
        from providers.smtp_email import SmtpEmailSender
        from repositories.accounts import BeanieAccountRepository, BeanieOneTimeTokenRepository
        from repositories.dev_outbox import RedisOutbox
        from repositories.rate_limit import RedisBucketStore
        from services.accounts import AccountService
        from services.login_throttle import LoginThrottle
        from services.passwords import PasswordPolicy, load_common_passwords
        from services.rate_limit import Limit

        s = self.settings
        ns, sender = f"muse:{s.mongodb_db}:", s.mail_from or "Muse <no-reply@localhost>"
        self.outbox = None if s.smtp_url else RedisOutbox(self.redis, key=ns + "outbox", sender=sender)
        self.mailer = self._pick("mailer", lambda: SmtpEmailSender(
            s.smtp_url.get_secret_value(), sender=sender) if s.smtp_url else self.outbox)
        self.accounts = None
        if self.sessions is not None:
            window = s.auth_login_window_s
            throttle = LoginThrottle(
                RedisBucketStore(self.redis), prefix=ns + "login:",
                ip=Limit(s.auth_login_ip_limit, s.auth_login_ip_limit / window),
                account=Limit(s.auth_login_account_limit, s.auth_login_account_limit / window))
            hasher = Argon2PasswordHasher(time_cost=s.auth_argon2_time_cost,
                                          memory_kib=s.auth_argon2_memory_kib,
                                          parallelism=s.auth_argon2_parallelism)
            self.accounts = self._pick("accounts", lambda: AccountService(
                BeanieAccountRepository(), BeanieOneTimeTokenRepository(), self.sessions, self.users,
                hasher, PasswordPolicy(load_common_passwords()), throttle, self.mailer,
                base_url=s.public_base_url))
        self.accounts_controller = AccountsController(
            self.accounts, secure_cookie=s.app_env != "development", cookie_max_age_s=s.auth_session_ttl_s)
        self.dev_outbox_controller = DevOutboxController(self.outbox, enabled=s.app_env == "development")

    async def _wire_chat(self) -> None:
        from controllers.chat import ChatController
        from providers.breaker import CircuitBreaker
        from providers.chat_factory import build_chat_providers
        from providers.instrumented import instrument_chat
        from repositories.chat_cache import RedisKeyValueStore, UpstashKeyValueStore
        from repositories.conversations import BeanieConversationRepository
        from services.chat import ChatService
        from services.chat_cache import ChatCache

        s = self.settings
        self.chat_providers = instrument_chat(self._pick("chat_providers", lambda: build_chat_providers(s)),
                                              self.metrics)
        self.breaker = self._pick("breaker", lambda: CircuitBreaker(
            self.redis, threshold=s.breaker_failure_threshold, cooldown_s=s.breaker_cooldown_s,
            trial_ttl_s=max(s.ai_timeout_s * 2, s.image_timeout_s) + 5))  # outlasts a chat or image trial
        if s.upstash_redis_rest_url and s.upstash_redis_rest_token:
            store = UpstashKeyValueStore.from_url(s.upstash_redis_rest_url,
                                                  s.upstash_redis_rest_token.get_secret_value())
        else:
            store = RedisKeyValueStore(self.redis)
        self.chat_cache = self._pick("chat_cache", lambda: ChatCache(store, ttl_s=s.cache_ttl_s))
        self.chat = self._pick("chat", lambda: ChatService(
            providers=self.chat_providers, conversations=BeanieConversationRepository(),
            cache=self.chat_cache, breaker=self.breaker, credits=self.credits,
            price=lambda: int(self.catalog.prices["chat"]), models=lambda: self.catalog.models,
            live_settings=self.live_settings, timeout_s=s.ai_timeout_s, max_chars=s.chat_max_chars,
            metrics=self.metrics))
        self.chat_controller = ChatController(self.chat, base_url=s.public_base_url)

    async def _close_chat(self) -> None:
        for provider in self.chat_providers:
            await provider.aclose()
        store = self.chat_cache.store
        if hasattr(store, "aclose"):  # the Upstash REST client owns an HTTP session
            await store.aclose()

    async def _wire_credits(self) -> None:
        from controllers.credits import CreditsController
        from controllers.gift_codes import GiftCodesController
        from controllers.plans import PlansController
        from repositories.credits import BeanieCreditAccountRepository
        from repositories.gift_codes import BeanieGiftCodeRepository
        from repositories.idempotency import BeanieIdempotencyRepository
        from repositories.ledger import BeanieLedgerRepository
        from services.catalog import Catalog
        from services.credits import CreditsService
        from services.gift_codes import GiftCodeService
        from services.idempotency import IdempotencyService

        s = self.settings

        async def signup_credits() -> int:
            return (await self.live_settings.current()).signup_credits  # admin-editable

        self.catalog = self._pick("catalog", lambda: Catalog.default(s))
        self.credit_accounts = self._pick("credit_accounts", BeanieCreditAccountRepository)
        self.ledger = self._pick("ledger", BeanieLedgerRepository)
        self.credits = self._pick("credits", lambda: CreditsService(
            self.credit_accounts, self.ledger, self.catalog, signup_credits=signup_credits,
            reconcile_after_s=s.credits_reconcile_after_s, metrics=self.metrics))
        self.gift_codes = self._pick("gift_codes", lambda: GiftCodeService(
            BeanieGiftCodeRepository(), self.credits, self.catalog))
        self.idempotency = self._pick(
            "idempotency", lambda: IdempotencyService(BeanieIdempotencyRepository()))
        self.plans_controller = PlansController(self.catalog)
        self.credits_controller = CreditsController(self.credits)
        self.gift_codes_controller = GiftCodesController(self.gift_codes, self.credits)

    async def _wire_images(self) -> None:
        from controllers.images import ImagesController, MediaController
        from providers.images import build_image_providers
        from providers.instrumented import instrument_images
        from providers.storage import build_storage, fetch_remote_image
        from repositories.images import BeanieImageRepository
        from services.image_jobs import ImageJobRunner
        from services.images import ImageService
        from services.vision import VisionService

        s = self.settings
        self.image_storage = self._pick("image_storage", lambda: build_storage(s))
        self.image_provider_list = instrument_images(
            self._pick("image_provider_list", lambda: build_image_providers(s)), self.metrics)
        self.image_repository = self._pick("image_repository", BeanieImageRepository)
        live = self.live_settings

        async def image_chain() -> list:
            return await live.enabled(self.image_provider_list)

        self.image_jobs = self._pick("image_jobs", lambda: ImageJobRunner(
            images=self.image_repository, storage=self.image_storage, providers=image_chain,
            credits=self.credits, breaker=self.breaker, timeout_s=s.image_timeout_s))
        self.images = self._pick("images", lambda: ImageService(
            images=self.image_repository, storage=self.image_storage, runner=self.image_jobs,
            queue=self.queue, credits=self.credits, catalog=self.catalog, live_settings=live,
            provider_names=[p.name for p in self.image_provider_list], ttl_h=s.temp_media_ttl_h,
            timeout_s=s.image_timeout_s))
        self.vision = self._pick("vision", lambda: VisionService(
            providers=self.chat.chain, credits=self.credits, catalog=self.catalog, live_settings=live,
            breaker=self.breaker, timeout_s=s.ai_timeout_s))
        max_bytes = int(s.max_upload_mb * 1024 * 1024)
        self.images_controller = ImagesController(
            self.images, self.vision, max_upload_mb=s.max_upload_mb,
            fetch_url=lambda url: fetch_remote_image(url, max_bytes=max_bytes,
                                                     allow_private=not s.is_production))
        self.media_controller = MediaController(self.image_storage)
        from controllers.openai_api import OpenAIController  # /v1 (contract §12) over the same services

        self.openai_controller = OpenAIController(self.chat, self.images, self.catalog,
                                                  max_upload_mb=s.max_upload_mb)

    async def _wire_payments(self) -> None:
        from controllers.payments import PaymentsController
        from controllers.paypal_webhooks import PayPalWebhooksController
        from controllers.subscriptions import SubscriptionsController
        from providers.paypal import PayPalPayments
        from repositories.payments import BeaniePaymentRepository, BeanieSubscriptionRepository
        from services.payments import PaymentService
        from services.paypal_webhooks import PayPalWebhookService
        from services.subscriptions import SubscriptionService

        s = self.settings
        secret = s.paypal_client_secret.get_secret_value() if s.paypal_client_secret else None
        self.payments_provider = self._pick("payments_provider", lambda: PayPalPayments(
            base_url=s.paypal_base_url, client_id=s.paypal_client_id, client_secret=secret,
            webhook_id=s.paypal_webhook_id, timeout=s.paypal_timeout_s)
            if s.paypal_client_id and secret else None)
        api = f"{s.public_base_url}/api/v1/payments/paypal"
        self.payment_records = self._pick("payment_records", BeaniePaymentRepository)
        self.payments = self._pick("payments", lambda: PaymentService(
            self.payment_records, self.payments_provider, self.catalog, self.credits,
            return_url=f"{api}/return", cancel_url=f"{api}/cancel",
            success_redirect=s.checkout_success_url, cancel_redirect=s.checkout_cancel_url))
        self.subscriptions = self._pick("subscriptions", lambda: SubscriptionService(
            BeanieSubscriptionRepository(), self.payments_provider, self.catalog, self.users,
            return_url=s.checkout_success_url, cancel_url=s.checkout_cancel_url))
        self.paypal_webhooks = PayPalWebhookService(
            self.payments_provider, self.webhook_events, self.payments, self.subscriptions)
        self.payments_controller = PaymentsController(self.payments, self.credits)
        from services.payments_reconcile import PaymentReconciler

        self.payment_reconciler = self._pick("payment_reconciler", lambda: PaymentReconciler(
            self.payment_records, self.payments, older_than_s=s.payments_reconcile_after_s,
            expire_after_s=s.payments_expire_after_s, batch=s.payments_reconcile_batch))
        self.subscriptions_controller = SubscriptionsController(self.subscriptions)
        self.paypal_webhooks_controller = PayPalWebhooksController(self.paypal_webhooks)

    async def _redis_check(self) -> None:
        await self.redis.ping()

    async def _queue_check(self) -> dict:
        return {"depth": await self.queue.depth()}

    async def stop(self) -> None:
        """Close connections and stop embedded servers."""
        if not self.started:
            return
        self.started = False
        await self._close_chat()
        if self.accounts is not None:
            await self.accounts.aclose()
        stop_metrics = getattr(self.metrics, "stop", None)
        if stop_metrics is not None:
            await stop_metrics()  # flushes this process's last increments
        await self.rate_limiter.close()
        await self.redis.aclose()
        await self.database.close()
        await asyncio.to_thread(self.embedded.stop)
