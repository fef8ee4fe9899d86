"""HTTP metrics: `muse_http_requests_total` and `muse_http_request_duration_seconds` per URL rule.

The label is the matched rule (`/api/v1/images/<image_id>`), never the raw path;
requests that match no rule (404/405) count under `<unmatched>`. Runs as the
last `after_request` hook, so the status is the one sent; for streamed
responses the duration is the time to the response headers. With tracing on,
the server span is renamed to `METHOD rule` and gets `http.route`.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable

from opentelemetry import trace
from quart import Quart, Response, g, request
from werkzeug.routing import Rule

from middlewares.hooks import hooks_of
from services.platform.ports.metrics import Metrics

UNMATCHED = "<unmatched>"


_CONVERTER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def route_of() -> str:
    """The URL rule of the current request, or `<unmatched>`."""
    return _route(request.url_rule)


def _route(rule: Rule | None) -> str:
    return _label(rule.rule) if rule is not None else UNMATCHED


@functools.lru_cache(maxsize=1024)
def _label(rule: str) -> str:
    return _CONVERTER.sub(r"<\1>", rule)  # <rid:x> → <x>


def install(app: Quart, metrics: Callable[[], Metrics]) -> None:
    """Record every answered request (installed first, so its after-request hook runs last)."""

    @hooks_of(app).after
    async def record_request(response: Response) -> Response:
        started = getattr(g._get_current_object(), "started", None)  # type: ignore[attr-defined]
        seconds = time.perf_counter() - started if started is not None else 0.0
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
        route = _route(req.url_rule)
        metrics().http_request(req.method, route, response.status_code, seconds)
        name_span(req.method, route)
        return response


def name_span(method: str, route: str) -> None:
    """Give the current server span (if tracing is on) its low-cardinality name and route."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
