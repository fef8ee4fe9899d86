"""Authentication and access policy: sets `g.principal`, enforces `@public` / `@require_role`.

Credentials: `Authorization: Bearer <token>` (a Clerk session JWT, or a Muse API key
starting `mk_`), else Clerk's `__session` cookie or Muse's `muse_session` (contract §17);
RapidAPI proxy headers in marketplace mode. Undeclared views are refused (fail closed); a test
also walks the URL map.
"""

from __future__ import annotations

from collections.abc import Callable

from quart import Quart, Request, Response, g, request

from middlewares.access import PUBLIC_ENDPOINTS, policy_of
from middlewares.client_ip import client_ip
from middlewares.hooks import hooks_of
from middlewares.policy import policy_declared
from middlewares.rate_limit import check_auth_blocked, count_auth_failure
from services.identity.auth import AuthService, Credentials
from services.platform import key_limits
from services.platform.errors import AppError, Forbidden, Unauthorized
from services.platform.principal import Principal
from services.platform.rate_limit import RateLimiter


def _token(req: Request) -> str | None:
    header = req.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Use `Authorization: Bearer <credential>`.")
        return value.strip()
    for name, value in req.cookies.items():
        if (name.startswith("__session") or name == "muse_session") and value:
            return value
    return None


def _credentials(req: Request) -> Credentials:
    headers = req.headers
    secret = headers.get("X-RapidAPI-Proxy-Secret")
    # The other RapidAPI headers mean nothing without the secret (and a missing header costs
    # werkzeug an exception per look-up).
    return Credentials(
        ip=client_ip(req),
        token=_token(req),
        rapidapi_secret=secret,
        rapidapi_user=headers.get("X-RapidAPI-User") if secret is not None else None,
        rapidapi_subscription=headers.get("X-RapidAPI-Subscription") if secret is not None else None,
    )


def install(app: Quart, auth_service: Callable[[], AuthService],
            rate_limiter: Callable[[], RateLimiter] | None) -> None:
    """Resolve the principal of every request and apply the view's declared policy; credential
    guessing is limited per client IP by `rate_limiter` (None: rate limits off)."""
    hooks = hooks_of(app)

    @hooks.before
    async def authenticate() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
        endpoint = req.endpoint if req.url_rule else None
        view = app.view_functions.get(endpoint) if endpoint else None
        is_public, min_role = policy_of(view)
        # Unknown routes (404/405) and the docs endpoints are public.
        is_public = is_public or view is None or endpoint in PUBLIC_ENDPOINTS
        auth = auth_service()
        limiter = rate_limiter() if rate_limiter is not None else None
        credentials = _credentials(req)
        presented = bool(credentials.token or credentials.rapidapi_secret)
        if presented and not is_public:  # credential guessing is limited per client IP
            check_auth_blocked(limiter, credentials.ip)
        try:
            principal, user = await auth.authenticate(credentials)
        except AppError as error:  # bad credentials on a public route: serve it anonymously
            if not is_public:
                if presented and isinstance(error, Unauthorized):
                    await count_auth_failure(limiter, credentials.ip)
                raise
            principal, user = Principal.anonymous(credentials.ip), None
        g_ = g._get_current_object()  # type: ignore[attr-defined]
        g_.principal, g_.user = principal, user
        # The key's limits are request-scoped context, like the request ID: the charge guard and
        # the model look-ups apply them wherever this request spends (services/platform/key_limits.py).
        key_limits.bind(principal.key_limits)
        if is_public:
            return
        if not principal.is_authenticated:
            raise Unauthorized()
        if min_role is None or not principal.has_role(min_role):
            raise Forbidden()
        if principal.key_limits is not None:
            declared = policy_declared(view)
            key_limits.require_scope(declared.scope if declared else None)

    @hooks.after
    async def challenge(response: Response) -> Response:
        if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
            response.headers["WWW-Authenticate"] = 'Bearer realm="muse"'
        return response
