"""The platform: connections, the job queue, the circuit breaker, health, housekeeping, metrics,
live settings, the catalogue, idempotency keys and rate limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis

from app.config import Settings
from app.wiring.overrides import Overrides
from controllers.health import HealthController
from repositories.audit_log import BeanieAuditLogRepository
from repositories.breaker import RedisCircuitBreaker
from repositories.database import MongoDatabase
from repositories.idempotency import BeanieIdempotencyRepository
from repositories.job_events import RedisJobEvents
from repositories.job_runs import BeanieJobRunRepository
from repositories.live_settings import BeanieLiveSettingsRepository
from repositories.local_copies import LocalCopies
from repositories.metrics import RedisMetrics
from repositories.queue import ArqJobQueue
from repositories.rate_limit import RedisBucketStore, UpstashBucketStore
from repositories.redis_client import connect_redis
from services.platform.catalog import Catalog
from services.platform.health import HealthService
from services.platform.housekeeping import HousekeepingService
from services.platform.idempotency import IdempotencyService
from services.platform.live_settings import LiveSettings, LiveSettingsService
from services.platform.metrics import (
    MetricsService,
    breaker_gauge,
    local_cache_gauge,
    queue_depth_gauge,
    redis_commands_gauge,
)
from services.platform.ports.breaker import CircuitBreaker
from services.platform.ports.jobs import Housekeeping
from services.platform.ports.metrics import Metrics, NoMetrics
from services.platform.rate_limit import RateLimiter, limits_from


@dataclass(frozen=True, kw_only=True)
class PlatformParts:
    database: MongoDatabase
    redis: ArqRedis
    namespace: str  # prefix of this deployment's Redis keys (one Redis may serve several)
    queue: ArqJobQueue
    breaker: CircuitBreaker
    job_runs: BeanieJobRunRepository
    job_events: RedisJobEvents  # media job changes pushed to every process (contract §15)
    local_copies: LocalCopies  # in-process copies of cached users, keys, sessions (pushed invalidation)
    housekeeping: Housekeeping
    health: HealthService
    health_controller: HealthController
    metrics: Metrics
    metrics_service: MetricsService
    known_providers: list[str]
    audit_log: BeanieAuditLogRepository
    live_settings: LiveSettingsService
    catalog: Catalog
    idempotency: IdempotencyService
    rate_limiter: RateLimiter

    async def aclose(self) -> None:
        if isinstance(self.metrics, RedisMetrics):
            await self.metrics.stop()  # flushes this process's last increments
        if isinstance(self.breaker, RedisCircuitBreaker):
            await self.breaker.flush()  # this process's deferred provider successes
        await self.rate_limiter.close()
        await self.job_events.aclose()
        await self.local_copies.aclose()
        await self.redis.aclose()
        await self.database.close()


async def wire_platform(s: Settings, o: Overrides, breaker_names: Callable[[], list[str]]) -> PlatformParts:
    """`breaker_names` is read at scrape time (the provider lists are wired later)."""
    assert s.mongodb_uri and s.redis_url, "Container.start() fills them (embedded servers) when unset"
    database = o.database or MongoDatabase(
        s.mongodb_uri, s.mongodb_db, timeout_s=s.mongodb_timeout_s,
        max_pool_size=s.mongodb_max_pool_size, max_idle_s=s.mongodb_max_idle_s)
    await database.init()
    redis = o.redis or connect_redis(  # bounded, fails fast, its pool bounded and pruned
        s.redis_url, timeout_s=s.redis_timeout_s, max_connections=s.redis_max_connections,
        max_idle_s=s.redis_max_idle_s)
    namespace = f"muse:{s.mongodb_db}:"
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

    local_copies = LocalCopies(redis, channel=f"{namespace}invalidate")
    local_copies.start()  # used once the channel's subscription is confirmed
    health = HealthService({"mongo": database.ping, "redis": redis_check, "queue": queue_check},
                           version=s.version)
    # Prometheus counters (flushed to Redis, so /metrics shows every process) and gauges.
    metrics = o.metrics or (RedisMetrics(redis, key=f"{namespace}metrics", flush_interval_s=s.metrics_flush_s)
                            if s.metrics_enabled else NoMetrics())
    if isinstance(metrics, RedisMetrics):
        metrics.start()
    metrics_service = MetricsService(
        metrics if isinstance(metrics, RedisMetrics) else None,
        token=s.metrics_token.get_secret_value() if s.metrics_token else None,
        serve_without_token=not s.is_production,
        gauges=[queue_depth_gauge(queue.depth),
                breaker_gauge(lambda name: breaker.state(name), breaker_names),
                local_cache_gauge(lambda: local_copies.counts),
                redis_commands_gauge(lambda: getattr(redis, "counts", {}))])
    # Admin-editable switches (maintenance, features, providers) and their audit log.
    builtin = ["gemini", "openai", "replicate", "local"]
    known = list(dict.fromkeys([*s.chat_providers, *s.image_providers, *s.video_providers,
                                *s.embedding_providers, *builtin]))
    audit_log = BeanieAuditLogRepository()
    live_settings = LiveSettingsService(
        BeanieLiveSettingsRepository(), audit_log,
        defaults=LiveSettings(signup_credits=s.signup_credits, providers=dict.fromkeys(known, True)))
    upstash = s.upstash_redis_rest_token.get_secret_value() if s.upstash_redis_rest_token else ""
    buckets = (UpstashBucketStore(s.upstash_redis_rest_url, upstash) if s.upstash_redis_rest_url
               else RedisBucketStore(redis))
    return PlatformParts(
        database=database, redis=redis, namespace=namespace, queue=queue, breaker=breaker, job_runs=job_runs,
        job_events=RedisJobEvents(redis, channel=f"{namespace}job-events"), local_copies=local_copies,
        housekeeping=o.housekeeping or HousekeepingService(job_runs), health=health,
        health_controller=HealthController(health), metrics=metrics, metrics_service=metrics_service,
        known_providers=known, audit_log=audit_log,
        live_settings=live_settings, catalog=o.catalog or Catalog.default(s),
        idempotency=IdempotencyService(BeanieIdempotencyRepository()),
        rate_limiter=RateLimiter(buckets, limits_from(s.rate_limit_plans), prefix=namespace + "rl:"))
