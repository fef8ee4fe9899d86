"""Maintenance mode and feature switches (contract §1), read from the live settings.

Each route declares its policy with `@policy(...)` (middlewares/policy.py):
- `maintenance_mode` → 503 `maintenance` unless the route is `open_in_maintenance`
  (health, webhooks, admin; the API docs too).
- `chat_enabled: false` / `images_enabled: false` → 503 `feature_disabled` for the
  routes declaring `feature="chat"` / `feature="images"` (generation; conversation
  history and the gallery stay readable, savable and deletable).
"""

from __future__ import annotations

from collections.abc import Callable

from quart import Quart, request

from middlewares.hooks import hooks_of
from middlewares.policy import request_policy
from services.platform.errors import FeatureDisabled, Maintenance
from services.platform.live_settings import LiveSettingsService

RETRY_AFTER_S = "60"


def install(app: Quart, live_settings: Callable[[], LiveSettingsService]) -> None:
    """Refuse requests while in maintenance or when their feature is switched off."""

    @hooks_of(app).before
    async def enforce_live_settings() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
        declared = request_policy(app, req.endpoint if req.url_rule else None, req.path, req.method)
        if declared.open_in_maintenance:
            return
        live = await live_settings().current()
        if live.maintenance_mode:
            raise Maintenance(headers={"Retry-After": RETRY_AFTER_S})
        feature = declared.feature
        enabled = {"chat": live.chat_enabled, "images": live.images_enabled}
        if feature is not None and not enabled[feature]:
            raise FeatureDisabled(f"The {feature} feature is switched off by an administrator.",
                                  feature=feature)
