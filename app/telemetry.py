"""Tracing (OpenTelemetry) and error reporting (Sentry), contract §13; both off unless configured.

`configure_telemetry(settings)` runs once per process, before the container
connects (web: `create_app`; worker: `run_worker`):

- `OTEL_EXPORTER_OTLP_ENDPOINT` set → a TracerProvider exporting over
  OTLP/HTTP (`<endpoint>/v1/traces`), PyMongo, Redis, httpx and aiohttp-client
  instrumentation; `instrument_asgi(app)` wraps the web app so an incoming
  W3C `traceparent` is continued. Only server (request) and consumer (job)
  spans may start a trace: Redis/MongoDB calls outside a request or job (the
  worker's queue polling, periodic flushes) are not recorded. The trace
  context travels into jobs next to the request ID (repositories/queue.py
  injects it, app/jobs.py continues it); log lines carry `trace_id`.
- `SENTRY_DSN` set → sentry-sdk, and every error-level log line of the process
  becomes a Sentry event (with its exception, if any) tagged with the
  `request_id` (and job) of that line. Unhandled request errors
  (`unhandled_exception`, the 500s) and failed jobs (`job_failed`,
  `image_job_crashed`) are such lines. Nothing is sent when unset.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from quart import Quart

from app.config import Settings

_done: dict[str, Any] = {}


def tracing_enabled() -> bool:
    """Whether this process exports traces."""
    return "tracing" in _done


def configure_telemetry(settings: Settings) -> None:
    """Set up tracing and Sentry as configured (idempotent per process)."""
    if settings.otel_exporter_otlp_endpoint and "tracing" not in _done:
        _done["tracing"] = _setup_tracing(settings)
    if settings.sentry_dsn:
        _setup_sentry(settings)


def instrument_asgi(app: Quart) -> None:
    """Wrap the app's ASGI callable in the OpenTelemetry server middleware (when tracing is on)."""
    if not tracing_enabled():
        return
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    app.asgi_app = OpenTelemetryMiddleware(  # type: ignore[method-assign,assignment]
        app.asgi_app, excluded_urls=r"/health/live$,/metrics$", exclude_spans=["receive", "send"])


def _setup_tracing(settings: Settings) -> Any:
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased

    endpoint = str(settings.otel_exporter_otlp_endpoint).rstrip("/") + "/v1/traces"
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name,
                                  "service.version": settings.version,
                                  "deployment.environment": settings.app_env}),
        sampler=ParentBased(root=_requests_and_jobs()))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    PymongoInstrumentor().instrument()
    RedisInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    AioHttpClientInstrumentor().instrument()
    logging.getLogger("muse.telemetry").info("tracing_enabled")
    return provider


def _requests_and_jobs() -> Any:
    """Root spans: keep requests (SERVER) and jobs (CONSUMER), drop stray client calls. (The
    class is made here: the OpenTelemetry SDK is loaded only when tracing is on, issue 12.)"""
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
    from opentelemetry.trace import SpanKind

    class RequestsAndJobs(Sampler):
        def should_sample(self, parent_context: Any, trace_id: int, name: str,
                          kind: SpanKind | None = None, attributes: Any = None, links: Any = None,
                          trace_state: Any = None) -> SamplingResult:
            keep = kind in (SpanKind.SERVER, SpanKind.CONSUMER)
            return SamplingResult(Decision.RECORD_AND_SAMPLE if keep else Decision.DROP, attributes)

        def get_description(self) -> str:
            return "RequestsAndJobs"

    return RequestsAndJobs()


def flush_traces(timeout_ms: int = 5000) -> None:
    """Export buffered spans now (tests, shutdown)."""
    provider = _done.get("tracing")
    if provider is not None:
        provider.force_flush(timeout_ms)


# --- Sentry -----------------------------------------------------------------------------

def _setup_sentry(settings: Settings) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    assert settings.sentry_dsn is not None
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment or settings.app_env,
        release=f"muse@{settings.version}",
        send_default_pii=False,
        auto_enabling_integrations=False,
        # Breadcrumbs from logging; events come from SentryErrorHandler (it understands structlog lines).
        integrations=[LoggingIntegration(level=logging.INFO, event_level=None)],
    )
    root = logging.getLogger()
    if not any(isinstance(h, SentryErrorHandler) for h in root.handlers):
        root.addHandler(SentryErrorHandler())


class SentryErrorHandler(logging.Handler):
    """Turns error-level log lines into Sentry events tagged with their request ID."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        import sentry_sdk

        if not sentry_sdk.get_client().is_active():
            return
        event: dict[str, Any] = record.msg if isinstance(record.msg, dict) else {"event": record.getMessage()}
        exc: Any = event.get("exc_info") or record.exc_info
        if exc is True:
            exc = sys.exc_info()
        if isinstance(exc, tuple):
            exc = exc[1]
        try:
            with sentry_sdk.new_scope() as scope:
                scope.set_tag("logger", record.name)
                for key in ("request_id", "job", "job_id"):
                    if event.get(key) is not None:
                        scope.set_tag(key, str(event[key]))
                scope.set_context("log", {k: repr(v) for k, v in event.items() if k != "exc_info"})
                if isinstance(exc, BaseException):
                    sentry_sdk.capture_exception(exc)
                else:
                    sentry_sdk.capture_message(str(event.get("event")), level="error")
        except Exception:  # reporting must never break the code that logged
            self.handleError(record)
