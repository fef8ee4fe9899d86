"""Token-bucket rate limiting per principal (after auth); RateLimit-* headers on limited responses."""

from __future__ import annotations

import asyncio

import structlog
from quart import Quart, Response, current_app, g, request

from services.errors import RateLimited

log = structlog.stdlib.get_logger("muse.rate_limit")

EXEMPT_PREFIXES = ("/health/", "/api/v1/webhooks/", "/assets/")
STORE_TIMEOUT_S = 2.0


def is_exempt(path: str) -> bool:
    """Webhooks, health checks and the web app's files are never limited."""
    return path == "/health" or any(path.startswith(p) for p in EXEMPT_PREFIXES)


def install(app: Quart) -> None:
    """Take a token before each request; refuse with 429 when the bucket is empty."""

    @app.before_request
    async def take_token() -> None:
        container = current_app.extensions["container"]
        principal = g.get("principal")
        if (not container.settings.rate_limits_enabled or principal is None or is_exempt(request.path)
                or (request.endpoint or "").startswith("webapp.")):  # the web app's own files
            return
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                decision = await container.rate_limiter.hit(principal)
        except Exception as exc:  # the limiter's store is down: fail open, /health reports it
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return
        g.rate_decision = decision
        if not decision.allowed:
            raise RateLimited(
                f"Too many requests; retry in {decision.retry_after_s} s.", headers=decision.headers()
            )

    @app.after_request
    async def add_headers(response: Response) -> Response:
        decision = g.get("rate_decision")
        if decision is not None:
            for name, value in decision.headers().items():
                response.headers[name] = value
        return response
