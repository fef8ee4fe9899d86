"""Declarative live-settings and rate-limit policy for routes: `@policy(...)`.

Every route declares, directly under its access decorator (`@public` / `@require_role`):

    @policy()                                   # closed in maintenance, no feature switch, rate limited
    @policy(feature="chat")                     # also 503 `feature_disabled` while chat is switched off
    @policy(open_in_maintenance=True)           # served during maintenance (admin)
    @policy(open_in_maintenance=True, rate_limited=False)   # health checks, webhooks
    @policy(rate_bucket="media")                # media downloads: their own, larger bucket
    @policy(scope="images")                     # an API key needs this scope (contract §19)
    @policy(rate_take="owed")                   # the view's first store round trip takes the token

The maintenance, feature-switch and rate-limit middlewares read it from the matched view;
a test walks the URL map and fails on a route without it. A request that matches no route
(404/405) has no view to declare anything: it takes the policy its neighbours in the URL
map agree on (the same path without a trailing slash; the routes under it; the routes next
to it), else the default — so `/api/v1/webhooks/<unknown>` stays open during maintenance and
`/nope` does not.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from quart import Quart
from werkzeug.exceptions import HTTPException

from middlewares.access import PUBLIC_ENDPOINTS
from services.platform.key_limits import Scope
from services.platform.rate_limit import settle_owed

F = TypeVar("F", bound=Callable[..., Any])

Feature = Literal["chat", "images"]
RateBucket = Literal["api", "media"]
RateTake = Literal["before", "owed"]
POLICY_ATTR = "_muse_policy"


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """What a route declares about live switches and rate limits."""

    feature: Feature | None = None  # the live switch that must be on (`chat_enabled`, `images_enabled`)
    open_in_maintenance: bool = False
    rate_limited: bool = True
    rate_bucket: RateBucket = "api"  # "media": the generous bucket for media downloads
    scope: Scope | None = None  # the API-key scope the route needs (None: any key)
    # "owed": the rate-limit token is taken by the view's first store round trip (the chat cache's
    # first look: services/platform/rate_limit.py `OwedTake`), else after the view; "before": by the
    # middleware, in a round trip of its own
    rate_take: RateTake = "before"


DEFAULT = RoutePolicy()
DOCS = RoutePolicy(open_in_maintenance=True)  # the API docs endpoints quart-schema registers


def policy(*, feature: Feature | None = None, open_in_maintenance: bool = False,
           rate_limited: bool = True, rate_bucket: RateBucket = "api",
           scope: Scope | None = None, rate_take: RateTake = "before") -> Callable[[F], F]:
    """Declare a view's live-settings, rate-limit and API-key scope policy."""
    declared = RoutePolicy(feature=feature, open_in_maintenance=open_in_maintenance,
                           rate_limited=rate_limited, rate_bucket=rate_bucket, scope=scope,
                           rate_take=rate_take)

    def decorate(fn: F) -> F:
        if rate_take == "owed":
            fn = _settling(fn)
        setattr(fn, POLICY_ATTR, declared)
        return fn

    return decorate


def _settling(fn: F) -> F:
    """`fn`, then the request's owed rate-limit token if nothing in it took the token (a refusal
    answers 429 in place of the view's answer or error, as when the middleware took it first)."""
    @functools.wraps(fn)
    async def view(*args: Any, **kwargs: Any) -> Any:
        try:
            answer = await fn(*args, **kwargs)
        except Exception:
            await settle_owed()  # raises the 429 when refused (the view's error is then moot)
            raise
        await settle_owed()
        return answer

    return view  # type: ignore[return-value]


def policy_declared(view: Callable[..., Any] | None) -> RoutePolicy | None:
    """The policy declared on a view; None when undeclared."""
    found = getattr(view, POLICY_ATTR, None) if view is not None else None
    return found if isinstance(found, RoutePolicy) else None


def _agreed(policies: Iterable[RoutePolicy]) -> RoutePolicy | None:
    found = set(policies)
    return found.pop() if len(found) == 1 else None


def _parent(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[0] or "/"


def request_policy(app: Quart, endpoint: str | None, path: str, method: str) -> RoutePolicy:
    """The policy of a request: its view's, the docs', or (no matching route) its neighbours'."""
    if endpoint in PUBLIC_ENDPOINTS:
        return DOCS
    if endpoint is not None:
        return policy_declared(app.view_functions.get(endpoint)) or DEFAULT
    return _inherited(app, path, method)


def _inherited(app: Quart, path: str, method: str) -> RoutePolicy:
    adapter = app.url_map.bind("localhost")
    stripped = path.rstrip("/") or "/"
    try:
        endpoint, _ = adapter.match(stripped, method=method)
        return request_policy(app, str(endpoint), stripped, method)
    except HTTPException:
        pass
    rules = [(r.rule, policy_declared(app.view_functions.get(r.endpoint)) or DEFAULT)
             for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC_ENDPOINTS]
    under = [p for rule, p in rules if rule.startswith(stripped + "/") or rule == stripped]
    if under:
        return _agreed(under) or DEFAULT
    parent = _parent(stripped)
    if parent == "/":
        return DEFAULT
    beside = [p for rule, p in rules if rule == parent or _parent(rule) == parent]
    return _agreed(beside) or DEFAULT
