"""Declarative access policy for routes.

Every route is either `@public` or `@require_role(...)` (placed directly
under the route decorator); a test walks the URL map to enforce it. The
authentication middleware reads these markers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from services.platform.principal import Role

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints quart-schema and Quart register themselves (API docs): public, no decorator.
PUBLIC_ENDPOINTS = frozenset({"openapi", "swagger_ui", "static", "docs_assets.docs_asset"})

PUBLIC_ATTR = "_muse_public"
ROLE_ATTR = "_muse_min_role"


def public(fn: F) -> F:
    """Mark a view as reachable without credentials."""
    setattr(fn, PUBLIC_ATTR, True)
    return fn


def require_role(role: Role = Role.USER) -> Callable[[F], F]:
    """Mark a view as needing an authenticated principal with at least `role`."""

    def decorate(fn: F) -> F:
        setattr(fn, ROLE_ATTR, role)
        return fn

    return decorate


def policy_of(view: Callable[..., Any] | None) -> tuple[bool, Role | None]:
    """(is_public, minimum role) declared on a view; (False, None) when undeclared."""
    if view is None:
        return False, None
    return bool(getattr(view, PUBLIC_ATTR, False)), getattr(view, ROLE_ATTR, None)
