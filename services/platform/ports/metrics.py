"""Metrics port: what the core counts (contract §13), independent of how it is exported.

Services, the job wrapper, the provider wrappers and the HTTP middleware call
a `Metrics`; the Prometheus implementation (shared by every process through
Redis) lives in `repositories/metrics.py`. `NoMetrics` is used when metrics are
switched off (`METRICS_ENABLED=false`) and in unit tests.

Recording is synchronous and must stay cheap: it runs on the request path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

ProviderKind = Literal["chat", "vision", "image", "video", "embedding"]
ProviderOutcome = Literal["success", "error", "timeout", "cancelled"]
CacheResult = Literal["hit", "miss"]
JobOutcome = Literal["success", "failed", "error"]


class Metrics(Protocol):
    """Records the events behind the `muse_*` metrics."""

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """One HTTP request answered; `route` is the URL rule, never the raw path."""

    def provider_call(self, kind: ProviderKind, provider: str, outcome: ProviderOutcome,
                      seconds: float) -> None:
        """One call to an AI provider (chat, vision or image), with its outcome and latency."""

    def cache_request(self, result: CacheResult) -> None:
        """One chat request answered from the response cache (hit) or not (miss)."""

    def credits_charged(self, amount: int) -> None:
        """Credits taken by a charge."""

    def credits_refunded(self, amount: int) -> None:
        """Credits given back by a refund."""

    def job(self, kind: str, outcome: JobOutcome) -> None:
        """One background job finished (`failed`: it reported failure; `error`: it raised)."""


class NoMetrics:
    """The `Metrics` that records nothing."""

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        return None

    def provider_call(self, kind: ProviderKind, provider: str, outcome: ProviderOutcome,
                      seconds: float) -> None:
        return None

    def cache_request(self, result: CacheResult) -> None:
        return None

    def credits_charged(self, amount: int) -> None:
        return None

    def credits_refunded(self, amount: int) -> None:
        return None

    def job(self, kind: str, outcome: JobOutcome) -> None:
        return None


NO_METRICS: Metrics = NoMetrics()


@dataclass(frozen=True, slots=True)
class Gauge:
    """A gauge read at scrape time: `samples` maps label values (in `labels` order) to a value."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    samples: dict[tuple[str, ...], float] = field(default_factory=dict)


GaugeSource = Callable[[], Awaitable[Sequence[Gauge]]]


class MetricsExporter(Metrics, Protocol):
    """A `Metrics` that can also render everything recorded (by every process) for a scrape."""

    async def render(self, gauges: Sequence[Gauge]) -> tuple[bytes, str]:
        """(body, content type) of the exposition, with `gauges` added."""
        ...
