"""Request IDs (contract §1): keep a valid caller ID or make a nanoid; echo it; bind it to logs."""

from __future__ import annotations

import re
import secrets
import time

import structlog
from quart import Quart, Response, g, request

from middlewares.hooks import hooks_of

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_request_id() -> str:
    """A nanoid: 21 characters of `A-Za-z0-9_-`, 126 random bits (the first 21 characters of 16 random
    bytes in URL-safe Base64: each one 6 uniform bits; a fifth of the `nanoid` package's cost)."""
    return secrets.token_urlsafe(16)[:21]


def resolve_request_id(candidate: str | None) -> str:
    """The caller's ID when it matches `[A-Za-z0-9_-]{1,64}`, else a new 21-char nanoid."""
    if candidate and _VALID.fullmatch(candidate):
        return candidate
    return new_request_id()


def install(app: Quart) -> None:
    """Bind the request ID before anything else runs and echo it on every response."""

    hooks = hooks_of(app)

    @hooks.before
    async def bind_request_id() -> None:
        rid = resolve_request_id(request.headers.get(HEADER))
        g_ = g._get_current_object()
        g_.started, g_.request_id = time.perf_counter(), rid
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)

    @hooks.after
    async def echo_request_id(response: Response) -> Response:
        response.headers[HEADER] = current_request_id()
        return response


def current_request_id() -> str:
    """The ID of the current request (made on demand when a hook failed early)."""
    rid = g.get("request_id")
    if rid is None:
        rid = g.request_id = new_request_id()
    return rid
