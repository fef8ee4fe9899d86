"""Typed settings, loaded once from the environment (names of contract §10)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.platform.prices import check_prices

ROOT = Path(__file__).resolve().parent.parent

Csv = Annotated[list[str], NoDecode]


def parse_plan_ids(pairs: list[str]) -> dict[str, str]:
    """`["starter=P-1", "enterprise:P-2"]` → {"starter": "P-1", "enterprise": "P-2"}."""
    mapping = {}
    for pair in pairs:
        sep = "=" if "=" in pair else ":"
        name, _, plan_id = pair.partition(sep)
        if name.strip() and plan_id.strip():
            mapping[name.strip()] = plan_id.strip()
    return mapping


def _csv(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v).strip() for v in cast("Iterable[object]", value)]


class Settings(BaseSettings):
    """Every setting Muse reads; nothing else reads os.environ."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    app_env: Literal["development", "test", "production"] = "development"
    port: int = 8000
    version: str = "0.1.0"
    log_level: str = "INFO"
    var_dir: Path = ROOT / "var"

    mongodb_uri: str | None = None
    mongodb_db: str = "muse"
    redis_url: str | None = None
    upstash_redis_rest_url: str | None = None
    upstash_redis_rest_token: SecretStr | None = None

    clerk_secret_key: SecretStr | None = None
    clerk_jwt_key: str | None = None
    clerk_authorized_parties: Csv = Field(default_factory=list)
    clerk_webhook_secret: SecretStr | None = None
    clerk_api_url: str = "https://api.clerk.com"
    admin_user_ids: Csv = Field(default_factory=list)

    # Muse's own accounts (contract §17): AUTH_PROVIDER=local turns them on (Clerk otherwise).
    auth_provider: Literal["clerk", "local"] | None = None
    # RS256 PEM private key signing session tokens (outside production: a key pair under var/)
    auth_jwt_private_key: SecretStr | None = None
    auth_access_token_ttl_s: int = 3600
    auth_session_ttl_s: int = 30 * 24 * 3600
    auth_login_ip_limit: int = 5  # failed sign-ins per client IP per AUTH_LOGIN_WINDOW_S
    auth_login_account_limit: int = 10  # failed sign-ins per account (email) per window
    auth_login_window_s: float = 900.0
    auth_argon2_time_cost: int = 3  # argon2id cost (argon2-cffi defaults, RFC 9106 low-memory)
    auth_argon2_memory_kib: int = 65536
    auth_argon2_parallelism: int = 4
    # zxcvbn score (0-4) a new password needs; the signup grant waits for the confirmed email
    # (unset: on in production only).
    auth_password_min_score: int = Field(default=3, ge=0, le=4)
    auth_require_verified_email: bool | None = None
    smtp_url: SecretStr | None = None
    mail_from: str | None = None

    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = None
    gemini_model: str = "gemini-2.5-flash"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_image_model: str = "gpt-image-1"
    replicate_api_token: SecretStr | None = None
    replicate_base_url: str | None = None
    replicate_image_model: str = "black-forest-labs/flux-schnell"
    chat_providers: Csv = Field(default_factory=lambda: ["gemini", "openai"])
    image_providers: Csv = Field(default_factory=lambda: ["replicate", "openai"])
    # Videos (contract §15): provider order, Replicate's video model, the job's time budget.
    video_providers: Csv = Field(default_factory=lambda: ["replicate"])
    replicate_video_model: str = "kwaivgi/kling-v1.6-standard"
    video_timeout_s: float = 600.0

    cloudinary_url: SecretStr | None = None
    cloudinary_upload_prefix: str | None = None
    media_dir: Path = ROOT / "var" / "media"
    # Data exports (contract §20): where the worker writes the zip archives (web processes read them:
    # one host or a shared volume) and how long a finished one is kept.
    export_dir: Path = ROOT / "var" / "exports"
    export_ttl_s: float = Field(default=86400.0, gt=0, le=30 * 86400)

    paypal_client_id: str | None = None
    paypal_client_secret: SecretStr | None = None
    paypal_base_url: str = "https://api-m.sandbox.paypal.com"
    paypal_webhook_id: str | None = None
    paypal_timeout_s: float = 20.0
    # plan=PayPal plan id pairs, e.g. "starter=P-1AB,enterprise=P-2CD" (overrides the catalogue's).
    paypal_plan_ids: Csv = Field(default_factory=list)
    # Reconcile job: re-check open payments older than this; expire unapproved ones after; per run.
    payments_reconcile_after_s: float = 600.0
    payments_expire_after_s: float = 259200.0
    payments_reconcile_batch: int = 50
    # Stripe (contract §14): PAYMENT_PROVIDERS orders the configured processors (first = default);
    # STRIPE_PRICE_IDS maps plans to prices ("starter=price_1,enterprise=price_2").
    payment_providers: Csv = Field(default_factory=lambda: ["paypal", "stripe"])
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_base_url: str | None = None
    stripe_price_ids: Csv = Field(default_factory=list)
    stripe_timeout_s: float = 20.0

    # Credits (issue 4): catalogue sections as JSON (plans, gift_tiers, credit_packs, prices);
    # signup grant when no live settings exist; age after which reconcile repairs a pending op.
    catalog_json: str | None = None
    signup_credits: int = 0
    credits_reconcile_after_s: float = 60.0

    public_base_url: str = "http://localhost:8000"
    checkout_success_url: str = "http://localhost:8000/checkout/success"
    checkout_cancel_url: str = "http://localhost:8000/checkout/cancel"
    rapidapi_proxy_secret: SecretStr | None = None

    ai_timeout_s: float = 30.0
    image_timeout_s: float = 120.0
    cache_ttl_s: int = 86400
    # Chat (issue 5): total input characters; circuit breaker (consecutive failures, cool-down).
    chat_max_chars: int = 32000
    chat_max_images: int = Field(default=8, ge=0)  # images per chat request (contract §18)
    # Chat models by name, JSON {"pro": {"gemini": "...", "openai": "...", "min_role": "SUBSCRIBER",
    # "price": 5}}: adds or replaces catalogue entries (null removes one); see services/platform/catalog.py.
    chat_models: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    # Embeddings (contract §12): the provider `embed-default` uses (the first configured one of this
    # list, `local` when none), and embedding models by name, JSON {"name": {"provider": "openai",
    # "model": "text-embedding-3-large", "min_role": "SUBSCRIBER"}} (null removes one).
    embedding_providers: Csv = Field(default_factory=lambda: ["gemini", "openai"])
    embedding_models: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    breaker_failure_threshold: int = 3
    breaker_cooldown_s: float = 30.0
    temp_media_ttl_h: float = 24.0
    max_upload_mb: float = 10.0
    rate_limits_enabled: bool = True
    # Provider cost (contract §19): USD per provider model, JSON {"gemini-2.5-flash": {"input_per_1m":
    # 0.3, "output_per_1m": 2.5}, "gpt-image-1": {"per_image": 0.04}, "veo-3": {"per_video_second": 0.4}}
    # (a key may be "<provider>/<model>"); the live setting `provider_prices` overrides it per model.
    provider_prices: dict[str, dict[str, float] | None] = Field(default_factory=dict)
    # Per-plan bucket overrides as JSON, e.g. {"free": [10, 1.0]} (burst, refill per second).
    rate_limit_plans: dict[str, tuple[int, float]] = Field(default_factory=dict)

    # Observability (issue 15, contract §13): /metrics (token; totals shared through Redis, flushed
    # every METRICS_FLUSH_S), OpenTelemetry traces over OTLP/HTTP when an endpoint is set, Sentry.
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None
    metrics_flush_s: float = 1.0
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "muse"
    sentry_dsn: SecretStr | None = None
    sentry_environment: str | None = None

    # Web app and browsers (contract §11): exact origins allowed by CORS; the app served at `/`;
    # Clerk's publishable key for the app's sign-in (Clerk's secret stays server-side).
    cors_origins: Csv = Field(default_factory=list)
    web_app_enabled: bool = True
    clerk_publishable_key: str | None = None

    # Run the arq worker inside the web process (development/test default).
    worker_in_process: bool | None = None
    queue_name: str = "muse:queue"

    # Operations (contract §16): the most one Redis command / one MongoDB operation may take
    # (a hung server then costs a request about this long, never tens of seconds); how long a
    # process drains on SIGTERM (unset: AI_TIMEOUT_S for web, IMAGE_TIMEOUT_S for a worker).
    redis_timeout_s: float = 1.0
    mongodb_timeout_s: float = 1.5
    # MongoDB pool: at most this many connections per process (more operations in flight wait for
    # one, within MONGODB_TIMEOUT_S); one idle this long is closed, so a latency spike's connections
    # do not stay for the life of the process (`make soak` saw 2 → 72 without these).
    mongodb_max_pool_size: int = Field(default=100, ge=1, le=1000)
    mongodb_max_idle_s: float = Field(default=60.0, gt=0, le=86400)
    # Redis pool, the same two bounds (redis-py keeps every connection it ever opened): at most
    # this many per process (a command beyond them waits for one, within REDIS_TIMEOUT_S; the two
    # pub/sub subscribers hold one each, hence at least 4); one idle this long is closed.
    redis_max_connections: int = Field(default=100, ge=4, le=10000)
    redis_max_idle_s: float = Field(default=60.0, gt=0, le=86400)
    drain_timeout_s: float | None = None
    # Worker liveness: a running job beats every third of this; silent this long → reaped.
    job_heartbeat_timeout_s: float = Field(default=30.0, gt=0)
    # Behind proxies (contract §16): the peers (addresses or CIDRs, `*` for any) whose
    # X-Forwarded-For / X-Forwarded-Proto are believed; middlewares/client_ip.py.
    forwarded_allow_ips: Csv = Field(default_factory=lambda: ["127.0.0.1", "::1"])

    @field_validator(
        "clerk_authorized_parties", "admin_user_ids", "chat_providers", "image_providers", "video_providers",
        "embedding_providers", "paypal_plan_ids", "cors_origins", "payment_providers", "stripe_price_ids",
        "forwarded_allow_ips",
        mode="before"
    )
    @classmethod
    def _split_csv(cls, value: object) -> list[str]:
        return _csv(value)

    @field_validator("provider_prices")
    @classmethod
    def _prices(cls, value: dict[str, Any]) -> dict[str, Any]:
        _table, errors = check_prices(value)
        if errors:
            where = ".".join(str(p) for p in errors[0]["loc"])
            raise ValueError(f"PROVIDER_PRICES: {where}: {errors[0]['msg']}")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, value: list[str]) -> list[str]:
        return [origin.rstrip("/") for origin in value]

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses_or_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"FORWARDED_ALLOW_IPS: {entry!r} is neither an IP address nor a CIDR") from None
        return value

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _local_urls_follow_the_port(self) -> Settings:
        """Unset PUBLIC_BASE_URL / CHECKOUT_*_URL point at this process's own PORT, not always :8000."""
        base = f"http://localhost:{self.port}"
        if "public_base_url" not in self.model_fields_set:
            self.public_base_url = base
        for name, path in (("checkout_success_url", "/checkout/success"),
                           ("checkout_cancel_url", "/checkout/cancel")):
            if name not in self.model_fields_set:
                setattr(self, name, base + path)
        return self

    @property
    def paypal_plan_map(self) -> dict[str, str]:
        """Catalogue plan → PayPal billing plan id: `paypal_plan_id` of `CATALOG_JSON` plans, then
        `PAYPAL_PLAN_IDS` (which wins). The PayPal adapter owns this mapping, not the catalogue."""
        mapping: dict[str, str] = {}
        if self.catalog_json:
            try:
                plans = json.loads(self.catalog_json).get("plans") or []
            except (ValueError, AttributeError):
                plans = []
            for plan in plans:
                if isinstance(plan, dict) and plan.get("name") and plan.get("paypal_plan_id"):
                    mapping[str(plan["name"])] = str(plan["paypal_plan_id"])
        return {**mapping, **parse_plan_ids(self.paypal_plan_ids)}

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def local_accounts(self) -> bool:
        """True when Muse's own accounts sign users in (AUTH_PROVIDER=local)."""
        return self.auth_provider == "local"

    @property
    def require_verified_email(self) -> bool:
        """AUTH_REQUIRE_VERIFIED_EMAIL, default on in production: no signup grant before the email
        of a local account is confirmed."""
        if self.auth_require_verified_email is not None:
            return self.auth_require_verified_email
        return self.is_production

    @property
    def run_worker_in_process(self) -> bool:
        if self.worker_in_process is not None:
            return self.worker_in_process
        return not self.is_production

    def missing_for_production(self) -> list[str]:
        """Names of the settings production cannot start without."""
        missing = []
        if not self.mongodb_uri:
            missing.append("MONGODB_URI")
        if not self.redis_url:
            missing.append("REDIS_URL")
        if self.local_accounts:
            missing += [name for name, value in (("AUTH_JWT_PRIVATE_KEY", self.auth_jwt_private_key),
                                                 ("SMTP_URL", self.smtp_url), ("MAIL_FROM", self.mail_from))
                        if not value]
        else:
            if not (self.clerk_jwt_key or self.clerk_secret_key):
                missing.append("CLERK_JWT_KEY or CLERK_SECRET_KEY (or AUTH_PROVIDER=local)")
            if not self.clerk_webhook_secret:
                missing.append("CLERK_WEBHOOK_SECRET")
        if self.stripe_secret_key and not self.stripe_webhook_secret:  # unverifiable webhooks: refuse
            missing.append("STRIPE_WEBHOOK_SECRET")
        if self.public_base_url.startswith("http://localhost"):
            missing.append("PUBLIC_BASE_URL")
        return missing

    def invalid_for_production(self) -> list[str]:
        """Settings production refuses whatever their value elsewhere."""
        return ["CORS_ORIGINS must list exact origins, not `*`"] if "*" in self.cors_origins else []


class ConfigurationError(RuntimeError):
    """Raised at start-up when production settings are incomplete."""


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and refuse an incomplete production set-up."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if settings.is_production:
        missing = settings.missing_for_production()
        if missing:
            raise ConfigurationError("missing required settings: " + ", ".join(missing))
        invalid = settings.invalid_for_production()
        if invalid:
            raise ConfigurationError("invalid settings: " + "; ".join(invalid))
    return settings
