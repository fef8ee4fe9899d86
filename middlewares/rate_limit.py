"""Token-bucket rate limiting per principal (after auth); RateLimit-* headers on limited responses.

Routes declaring `@policy(rate_limited=False)` (health checks, webhooks) are never limited.
The limiter is given at install time (None: rate limits off, RATE_LIMITS_ENABLED=false)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from quart import Quart, Response, g, request

from middlewares.hooks import hooks_of
from middlewares.policy import request_policy
from services.platform.errors import RateLimited
from services.platform.rate_limit import RateLimiter, owe, refused

log = structlog.stdlib.get_logger("muse.rate_limit")

STORE_TIMEOUT_S = 2.0


def check_auth_blocked(limiter: RateLimiter | None, ip: str) -> None:
    """429 before verifying any credential from an IP that has failed authentication too often."""
    if limiter is None:
        return
    decision = limiter.auth_blocked(ip)  # in-process: no store call per request
    if decision is not None:
        raise RateLimited(f"Too many failed sign-ins from this address; retry in {decision.retry_after_s} s.",
                          headers=decision.headers())


async def count_auth_failure(limiter: RateLimiter | None, ip: str) -> None:
    """Record a failed authentication from `ip`; 429 (instead of 401) once it has failed too often."""
    if limiter is None:
        return
    try:
        async with asyncio.timeout(STORE_TIMEOUT_S):
            decision = await limiter.auth_failed(ip)
    except Exception as exc:
        log.warning("rate_limit_unavailable", error=type(exc).__name__)
        return
    if not decision.allowed:
        raise RateLimited(f"Too many failed sign-ins from this address; retry in {decision.retry_after_s} s.",
                          headers=decision.headers())


def install(app: Quart, rate_limiter: Callable[[], RateLimiter] | None) -> None:
    """Take a token before each request; refuse with 429 when the bucket is empty."""
    hooks = hooks_of(app)
    if rate_limiter is None:
        return

    @hooks.before
    async def take_token() -> None:
        g_ = g._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
        owe(None)
        principal = getattr(g_, "principal", None)
        if principal is None:
            return
        req = request._get_current_object()  # type: ignore[attr-defined]
        declared = request_policy(app, req.endpoint if req.url_rule else None, req.path, req.method)
        if not declared.rate_limited:
            return
        limiter = rate_limiter()
        if declared.rate_take == "owed":  # the view's first store round trip carries it (see OwedTake)
            g_.rate_owed = owed = limiter.owe(principal)
            owe(owed)
            return
        media = declared.rate_bucket == "media"  # its own generous bucket, not the API one
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                decision = await (limiter.hit_media(principal) if media else limiter.hit(principal))
        except Exception as exc:  # the limiter's store is down: fail open, /health reports it
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return
        g_.rate_decision = decision
        if not decision.allowed:
            raise refused(decision)

    @hooks.after
    async def add_headers(response: Response) -> Response:
        g_ = g._get_current_object()  # type: ignore[attr-defined]
        decision = g_.get("rate_decision")
        owed = g_.get("rate_owed")
        if owed is not None:
            decision = owed.decision
        if decision is not None:
            for name, value in decision.headers().items():
                response.headers[name] = value
        return response
