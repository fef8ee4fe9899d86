"""HTTP metrics: `muse_http_requests_total` and `muse_http_request_duration_seconds` per URL rule.

The label is the matched rule (`/api/v1/images/<image_id>`), never the raw path;
requests that match no rule (404/405) count under `<unmatched>`. Runs as the
last `after_request` hook, so the status is the one sent; for streamed
responses the duration is the time to the response headers. With tracing on,
the server span is renamed to `METHOD rule` and gets `http.route`.
"""

from __future__ import annotations

import re
import time

from opentelemetry import trace
from quart import Quart, Response, current_app, g, request

UNMATCHED = "<unmatched>"


_CONVERTER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def route_of() -> str:
    """The URL rule of the current request, or `<unmatched>`."""
    rule = request.url_rule
    return _CONVERTER.sub(r"<\1>", rule.rule) if rule is not None else UNMATCHED  # <rid:x> → <x>


def install(app: Quart) -> None:
    """Record every answered request (installed first, so its after-request hook runs last)."""

    @app.after_request
    async def record_request(response: Response) -> Response:
        started = g.get("started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        route = route_of()
        current_app.extensions["container"].metrics.http_request(
            request.method, route, response.status_code, seconds)
        name_span(request.method, route)
        return response


def name_span(method: str, route: str) -> None:
    """Give the current server span (if tracing is on) its low-cardinality name and route."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
