"""Prometheus metrics shared by every web and worker process through one Redis hash.

Why Redis and not prometheus-client's multiprocess mode: Muse's web and worker
processes (Procfile `web` and `worker`) may run on different hosts or
containers with no shared filesystem, the worker has no HTTP port to scrape,
and all other shared state (breakers, queue, rate limits) is already in Redis.
Every process adds its increments to one hash (`muse:<db>:metrics`), so any web
process's `/metrics` shows the totals of the whole deployment, with no
directory to wipe between deploys and no per-pid files.

The hot path only adds to an in-process dict (no I/O); a background task
flushes it every `flush_interval_s` with one pipelined `HINCRBYFLOAT` per
changed series, and a scrape flushes its own process first. A process killed
without stopping loses at most its last interval of increments. Histograms keep
per-bucket counts (made cumulative when rendered). Exposition uses
prometheus-client's metric families and text format.
"""

from __future__ import annotations

import asyncio
import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis

from services.platform.ports.metrics import CacheResult, Gauge, JobOutcome, ProviderKind, ProviderOutcome

log = structlog.stdlib.get_logger("muse.metrics")

SEP = "\x1f"  # between a series' name and its label values in a hash field
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0)
PROVIDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Definition:
    name: str  # without the `_total` suffix for counters
    help: str
    kind: str  # counter | histogram
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


DEFINITIONS = (
    Definition("muse_http_requests", "HTTP requests answered, by method, URL rule and status.", "counter",
               ("method", "route", "status")),
    Definition("muse_http_request_duration_seconds", "Time to answer an HTTP request (to the response "
               "headers for streams), by URL rule.", "histogram", ("route",), HTTP_BUCKETS),
    Definition("muse_provider_calls", "Calls to AI providers by kind (chat, vision, image), provider and "
               "outcome (success, error, timeout, cancelled).", "counter", ("kind", "provider", "outcome")),
    Definition("muse_provider_latency_seconds", "Latency of AI provider calls (whole stream for streamed "
               "chat).", "histogram", ("kind", "provider"), PROVIDER_BUCKETS),
    Definition("muse_provider_cost_usd", "What AI provider calls cost in USD (price table: PROVIDER_PRICES "
               "and the live setting provider_prices), by provider and model.", "counter",
               ("provider", "model")),
    Definition("muse_cache_requests", "Chat requests by response-cache result (hit, miss).", "counter",
               ("result",)),
    Definition("muse_credits_charged", "Credits taken by charges.", "counter"),
    Definition("muse_credits_refunded", "Credits given back by refunds.", "counter"),
    Definition("muse_jobs", "Background jobs finished, by job kind and outcome (success, failed, error).",
               "counter", ("kind", "outcome")),
)
_HTTP_BUCKET_LABELS = tuple(repr(b) for b in HTTP_BUCKETS) + ("+Inf",)
_PROVIDER_BUCKET_LABELS = tuple(repr(b) for b in PROVIDER_BUCKETS) + ("+Inf",)

Series = tuple[str, tuple[str, ...]]  # (sample name, label values)


def _bucket(bounds: tuple[float, ...], labels: tuple[str, ...], seconds: float) -> str:
    return labels[bisect.bisect_left(bounds, seconds)]


class RedisMetrics:
    """`MetricsExporter` over a Redis hash; see the module docstring."""

    def __init__(self, redis: Redis, *, key: str, flush_interval_s: float = 1.0) -> None:
        self._redis = redis
        self.key = key
        self.flush_interval_s = flush_interval_s
        self._pending: dict[Series, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    # --- recording (hot path: dict updates only) ----------------------------------------
    def _add(self, series: Series, value: float = 1.0) -> None:
        pending = self._pending
        pending[series] = pending.get(series, 0.0) + value

    def _observe(self, name: str, labels: tuple[str, ...], seconds: float,
                 bounds: tuple[float, ...], bucket_labels: tuple[str, ...]) -> None:
        self._add((name + "_bucket", (*labels, _bucket(bounds, bucket_labels, seconds))))
        self._add((name + "_sum", labels), seconds)
        self._add((name + "_count", labels))

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        self._add(("muse_http_requests_total", (method, route, str(status))))
        self._observe("muse_http_request_duration_seconds", (route,), seconds, HTTP_BUCKETS,
                      _HTTP_BUCKET_LABELS)

    def provider_call(self, kind: ProviderKind, provider: str, outcome: ProviderOutcome,
                      seconds: float) -> None:
        self._add(("muse_provider_calls_total", (kind, provider, outcome)))
        self._observe("muse_provider_latency_seconds", (kind, provider), seconds, PROVIDER_BUCKETS,
                      _PROVIDER_BUCKET_LABELS)

    def provider_cost(self, provider: str, model: str, usd: float) -> None:
        self._add(("muse_provider_cost_usd_total", (provider, model)), usd)

    def cache_request(self, result: CacheResult) -> None:
        self._add(("muse_cache_requests_total", (result,)))

    def credits_charged(self, amount: int) -> None:
        self._add(("muse_credits_charged_total", ()), float(amount))

    def credits_refunded(self, amount: int) -> None:
        self._add(("muse_credits_refunded_total", ()), float(amount))

    def job(self, kind: str, outcome: JobOutcome) -> None:
        self._add(("muse_jobs_total", (kind, outcome)))

    # --- sharing -------------------------------------------------------------------------
    async def flush(self) -> None:
        """Add this process's pending increments to the shared hash (kept for the next try on error)."""
        async with self._flush_lock:
            if not self._pending:
                return
            pending, self._pending = self._pending, {}
            try:
                pipe = self._redis.pipeline(transaction=False)
                for (name, labels), value in pending.items():
                    pipe.hincrbyfloat(self.key, SEP.join((name, *labels)), value)
                await pipe.execute()
            except BaseException:
                for series, value in pending.items():
                    self._add(series, value)
                raise

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            try:
                await self.flush()
            except Exception as exc:  # Redis away: keep counting, retry next time
                log.warning("metrics_flush_failed", error=type(exc).__name__)

    def start(self) -> None:
        """Start the periodic flush (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush_forever(), name="muse-metrics-flush")

    async def stop(self) -> None:
        """Stop the periodic flush and flush what is left."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        try:
            await self.flush()
        except Exception as exc:
            log.warning("metrics_flush_failed", error=type(exc).__name__)

    # --- exposition ----------------------------------------------------------------------
    async def read(self) -> dict[Series, float]:
        """Every series of the deployment (after flushing this process)."""
        await self.flush()
        raw: dict[Any, Any] = await self._redis.hgetall(self.key)  # type: ignore[misc]
        values: dict[Series, float] = {}
        for field, value in raw.items():
            text = field.decode() if isinstance(field, bytes) else str(field)
            name, *labels = text.split(SEP)
            values[(name, tuple(labels))] = float(value)
        return values

    async def render(self, gauges: Sequence[Gauge]) -> tuple[bytes, str]:
        """Prometheus text exposition of the shared counters and histograms plus `gauges`."""
        # prometheus-client is loaded by the first scrape, not at start-up (issue 12)
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.core import GaugeMetricFamily
        from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

        families = _families(await self.read())
        for gauge in gauges:
            family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels))
            for labels, value in sorted(gauge.samples.items()):
                family.add_metric(list(labels), value)
            families.append(family)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Snapshot(families))  # type: ignore[arg-type]  # a Collector by its collect()
        return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4


class _Snapshot:
    """The families of one scrape, as a prometheus-client collector."""

    def __init__(self, families: list[Any]) -> None:
        self._families = families

    def collect(self) -> Any:
        return iter(self._families)


def _families(values: dict[Series, float]) -> list[Any]:
    from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

    families: list[Any] = []
    for d in DEFINITIONS:
        family: Any
        if d.kind == "counter":
            family = CounterMetricFamily(d.name, d.help, labels=list(d.labels))
            samples = {labels: v for (name, labels), v in values.items() if name == d.name + "_total"}
            if not d.labels:
                samples.setdefault((), 0.0)  # unlabelled counters exist from the start (alerts need them)
            for labels, value in sorted(samples.items()):
                family.add_metric(list(labels), value)
        else:
            family = HistogramMetricFamily(d.name, d.help, labels=list(d.labels))
            bucket_labels = _HTTP_BUCKET_LABELS if d.buckets == HTTP_BUCKETS else _PROVIDER_BUCKET_LABELS
            counts = {labels: v for (name, labels), v in values.items() if name == d.name + "_count"}
            for labels in sorted(counts):
                running, buckets = 0.0, []
                for le in bucket_labels:
                    running += values.get((d.name + "_bucket", (*labels, le)), 0.0)
                    buckets.append((le, running))
                total = values.get((d.name + "_sum", labels), 0.0)
                family.add_metric(list(labels), buckets, sum_value=total if math.isfinite(total) else 0.0)
        families.append(family)
    return families
