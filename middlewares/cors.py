"""CORS for third-party web clients (contract §11), installed before every other hook.

A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered
204 here, before authentication, maintenance and rate limits. Only origins listed in
`CORS_ORIGINS` (exact match; `*` allows any, refused in production) get
`Access-Control-*` headers; any other origin gets none, so the browser blocks it.
"""

from __future__ import annotations

from quart import Quart, Response, request

from middlewares.hooks import hooks_of

ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
EXPOSE_HEADERS = ("X-Request-ID, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, "
                  "Idempotent-Replayed, Location")
MAX_AGE_S = "600"


def allowed_origin(origin: str | None, allowed: list[str]) -> str | None:
    """The origin to echo when `origin` is allowed, else None."""
    if not origin:
        return None
    return origin if origin in allowed or "*" in allowed else None


def install(app: Quart, cors_origins: list[str]) -> None:
    """Answer preflights early and add CORS headers to responses for allowed origins."""

    hooks = hooks_of(app)

    @hooks.before
    async def preflight() -> Response | None:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
        if req.method != "OPTIONS" or "Access-Control-Request-Method" not in req.headers:
            return None
        response = Response("", status=204)
        origin = allowed_origin(req.headers.get("Origin"), cors_origins)
        if origin:
            response.headers.update({
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Credentials": "true",
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": MAX_AGE_S,
            })
        response.headers["Vary"] = "Origin"
        return response

    @hooks.after
    async def add_headers(response: Response) -> Response:
        origin = allowed_origin(request.headers.get("Origin"), cors_origins)
        if origin and "Access-Control-Allow-Origin" not in response.headers:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            response.headers.add("Vary", "Origin")
        return response
