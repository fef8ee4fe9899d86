"""The limits of the API key a request spends through (contract §19), as request-scoped context.

The auth middleware binds the limits of the request's API key (None for sessions) once the
principal is known, like the request ID; the rules that apply them sit where the mechanism
is, so no route or service can forget them:

- `require_scope` — the route's declared scope (`@policy(scope=...)`), checked by the auth middleware;
- `require_model` — every place a model name is resolved (chat models, image and video models);
- the spend caps — `CreditsService.charge`, the one place credits are taken, reserves against them.
"""

from __future__ import annotations

import calendar
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from services.platform.errors import ApiKeyModel, ApiKeyScope

Scope = Literal["chat", "images", "videos", "describe", "embeddings"]
SCOPES: tuple[str, ...] = get_args(Scope)


@dataclass(frozen=True, slots=True)
class KeyLimits:
    """What an API key may do: scopes, models (None: all) and spend caps in credits (None: none)."""

    key_id: str
    scopes: frozenset[str] = frozenset(SCOPES)
    models: frozenset[str] | None = None
    daily_credit_cap: int | None = None
    monthly_credit_cap: int | None = None


_current: ContextVar[KeyLimits | None] = ContextVar("muse_key_limits", default=None)


def bind(limits: KeyLimits | None) -> Token[KeyLimits | None]:
    """Make `limits` the current request's (None: not spending through an API key)."""
    return _current.set(limits)


def reset(token: Token[KeyLimits | None]) -> None:
    """Undo a `bind`."""
    _current.reset(token)


def current() -> KeyLimits | None:
    """The limits of the API key the current request spends through, if any."""
    return _current.get()


def require_scope(scope: str | None) -> None:
    """403 `api_key_scope` when the current key's scopes leave out `scope` (None: any key may)."""
    limits = _current.get()
    if scope is not None and limits is not None and scope not in limits.scopes:
        allowed = ", ".join(sorted(limits.scopes)) or "none"
        raise ApiKeyScope(f"This API key's scopes ({allowed}) do not include {scope!r}.",
                          scope=scope)


def require_model(name: str) -> None:
    """403 `api_key_model` when the current key may not use the model called `name`."""
    limits = _current.get()
    if limits is not None and limits.models is not None and name not in limits.models:
        allowed = ", ".join(sorted(limits.models)) or "none"
        raise ApiKeyModel(f"This API key may not use the model {name!r}; it may use: {allowed}.",
                          param="model")


def utc_month(now: datetime) -> str:
    """`YYYY-MM` of `now` (UTC)."""
    return now.strftime("%Y-%m")


def next_day(now: datetime) -> datetime:
    """The start of the next UTC day."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def next_month(now: datetime) -> datetime:
    """The start of the next UTC month."""
    days = calendar.monthrange(now.year, now.month)[1]
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days)
