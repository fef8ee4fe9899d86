"""One access log line per request."""

from __future__ import annotations

import time

import structlog
from quart import Quart, Response, g, request

from middlewares.client_ip import client_ip
from middlewares.hooks import hooks_of

log = structlog.stdlib.get_logger("muse.access")


def install(app: Quart) -> None:
    """Log method, path, status, duration, request ID, principal and client address after each request."""

    @hooks_of(app).after
    async def access_log(response: Response) -> Response:
        g_ = g._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
        started = getattr(g_, "started", None)
        duration = round((time.perf_counter() - started) * 1000, 2) if started else None
        principal = getattr(g_, "principal", None)
        req = request._get_current_object()  # type: ignore[attr-defined]
        log.info(
            "request",
            method=req.method,
            path=req.path,
            status=response.status_code,
            duration_ms=duration,
            principal=getattr(principal, "rate_key", None) if principal else None,
            client_ip=client_ip(req),
        )
        return response
