"""`GET /metrics` (contract §13): who may scrape, and the gauges read at scrape time.

- `METRICS_TOKEN` set → `Authorization: Bearer <token>` required (else 401);
- unset → served in development and test, 404 in production;
- metrics switched off (`METRICS_ENABLED=false`) → 404.

Queue depth and breaker states are read when scraped (not recorded), so they
are current whichever process answers.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Mapping, Sequence

import structlog

from services.platform.errors import NotFound, ServiceUnavailable, Unauthorized
from services.platform.ports.metrics import Gauge, GaugeSource, MetricsExporter

log = structlog.stdlib.get_logger("muse.metrics")

SCRAPE_TIMEOUT_S = 2.0


class MetricsService:
    """Renders the exposition for an authorised scraper."""

    def __init__(self, exporter: MetricsExporter | None, *, token: str | None, serve_without_token: bool,
                 gauges: Sequence[GaugeSource] = ()) -> None:
        self._exporter = exporter
        self._token = token
        self._serve_without_token = serve_without_token
        self._gauges = list(gauges)

    def authorise(self, authorization: str | None) -> None:
        """Raise 404 when /metrics is not served here, 401 when the bearer token is missing or wrong."""
        if self._exporter is None or (self._token is None and not self._serve_without_token):
            raise NotFound()
        if self._token is None:
            return
        scheme, _, value = (authorization or "").strip().partition(" ")
        given = value.strip().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given, self._token.encode()):
            raise Unauthorized("Scraping /metrics needs `Authorization: Bearer <METRICS_TOKEN>`.")

    async def scrape(self, authorization: str | None) -> tuple[bytes, str]:
        """(body, content type) of the Prometheus text exposition."""
        self.authorise(authorization)
        assert self._exporter is not None
        gauges: list[Gauge] = []
        for source in self._gauges:
            try:
                async with asyncio.timeout(SCRAPE_TIMEOUT_S):
                    gauges.extend(await source())
            except Exception as exc:  # a dependency is down: serve the rest, the gauge goes missing
                log.warning("metrics_gauge_failed", error=type(exc).__name__)
        try:
            async with asyncio.timeout(SCRAPE_TIMEOUT_S):
                return await self._exporter.render(gauges)
        except Exception as exc:
            log.warning("metrics_render_failed", error=type(exc).__name__)
            raise ServiceUnavailable("The shared metrics store is unreachable.") from exc


def queue_depth_gauge(depth: Callable[[], Awaitable[int]]) -> GaugeSource:
    """`muse_queue_depth`: jobs waiting in the queue."""

    async def read() -> Sequence[Gauge]:
        return [Gauge("muse_queue_depth", "Jobs waiting in the job queue.", (), {(): float(await depth())})]

    return read


def breaker_gauge(state: Callable[[str], Awaitable[Mapping[str, object]]], names: Callable[[], list[str]]
                  ) -> GaugeSource:
    """`muse_breaker_open{provider}`: 1 while a provider's circuit is open (its breaker name)."""

    async def read() -> Sequence[Gauge]:
        listed = names()
        states = await asyncio.gather(*(state(name) for name in listed))
        samples: dict[tuple[str, ...], float] = {
            (name,): 1.0 if s.get("state") == "open" else 0.0 for name, s in zip(listed, states, strict=True)}
        return [Gauge("muse_breaker_open", "1 while the provider's circuit breaker is open (calls skipped); "
                      "image providers are named images:<provider>.", ("provider",), samples)]

    return read


def counts_gauge(name: str, help_text: str, label: str, counts: Callable[[], Mapping[str, int]]
                 ) -> GaugeSource:
    """`name{label}`: the scraped process's counts since it started, one sample per key of `counts()`."""

    async def read() -> Sequence[Gauge]:
        samples: dict[tuple[str, ...], float] = {(key,): float(n) for key, n in counts().items()}
        return [Gauge(name, help_text, (label,), samples)]

    return read


def local_cache_gauge(counts: Callable[[], Mapping[str, int]]) -> GaugeSource:
    """`muse_local_cache_events{event}`: the scraped process's in-process cache events since it started."""
    return counts_gauge(
        "muse_local_cache_events", "In-process copies of cached users, API keys and sessions, events since "
        "this process started: hit, miss, install, invalidation (pushed over Redis), flush (connection lost "
        "or regained).", "event", counts)


def redis_commands_gauge(counts: Callable[[], Mapping[str, int]]) -> GaugeSource:
    """`muse_redis_commands{sent}`: how the scraped process sent its batchable Redis commands."""
    return counts_gauge(
        "muse_redis_commands", "Batchable Redis commands of this process since it started: alone (a round "
        "trip of their own), shared (sent with the others issued in the same turn of the event loop), "
        "shared_round_trip (the round trips those took).", "sent", counts)
