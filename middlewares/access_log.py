"""One access log line per request."""

from __future__ import annotations

import time

import structlog
from quart import Quart, Response, g, request

log = structlog.stdlib.get_logger("muse.access")


def install(app: Quart) -> None:
    """Log method, path, status, duration, request ID and principal after each request."""

    @app.after_request
    async def access_log(response: Response) -> Response:
        started = g.get("started")
        duration = round((time.perf_counter() - started) * 1000, 2) if started else None
        principal = g.get("principal")
        log.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=duration,
            principal=getattr(principal, "rate_key", None) if principal else None,
        )
        return response
