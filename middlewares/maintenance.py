"""Maintenance mode and feature switches (contract §1), read from the live settings.

- `maintenance_mode` → 503 `maintenance` for every path except `/health*`,
  `/api/v1/webhooks/*`, `/api/v1/admin/*`, the API docs, and what the web app needs
  to say so and let an admin sign in (its pages, `/assets/`, `/api/v1/dev/`,
  `/api/v1/client-config`).
- `chat_enabled: false` → 503 `feature_disabled` for `/api/v1/chat*` and
  `/v1/chat/completions` (the generation endpoints; conversation history stays
  readable and deletable).
- `images_enabled: false` → 503 `feature_disabled` for `POST /api/v1/images`,
  `/api/v1/images/edits`, `/api/v1/images/describe`, `/v1/images/generations`
  and `/v1/images/edits` (generation; the gallery stays readable, savable and
  deletable).
"""

from __future__ import annotations

from quart import Quart, current_app, request

from services.errors import FeatureDisabled, Maintenance

RETRY_AFTER_S = "60"
OPEN_PREFIXES = ("/health", "/api/v1/webhooks/", "/api/v1/admin/", "/openapi.json", "/docs",
                 "/api/v1/dev/", "/assets/")
OPEN_EXACT = {"/api/v1/webhooks", "/api/v1/admin", "/metrics", "/api/v1/client-config"}
IMAGE_GENERATION = {"/api/v1/images", "/api/v1/images/edits", "/api/v1/images/describe",
                    "/v1/images/generations", "/v1/images/edits"}
CHAT_GENERATION = {"/v1/chat/completions"}


def is_open(path: str) -> bool:
    """Whether `path` stays served during maintenance."""
    return path in OPEN_EXACT or path.startswith(OPEN_PREFIXES)


def disabled_feature(path: str, method: str, *, chat_enabled: bool, images_enabled: bool) -> str | None:
    """The switched-off feature this request needs, if any."""
    if not chat_enabled and (path == "/api/v1/chat" or path.startswith("/api/v1/chat/")
                             or path.rstrip("/") in CHAT_GENERATION):
        return "chat"
    if not images_enabled and method == "POST" and path.rstrip("/") in IMAGE_GENERATION:
        return "images"
    return None


def install(app: Quart) -> None:
    """Refuse requests while in maintenance or when their feature is switched off."""

    @app.before_request
    async def enforce_live_settings() -> None:
        path = request.path
        # The web app's pages stay up to tell people about the maintenance (and let admins in).
        if is_open(path) or (request.endpoint or "").startswith("webapp."):
            return
        live = await current_app.extensions["container"].live_settings.current()
        if live.maintenance_mode:
            raise Maintenance(headers={"Retry-After": RETRY_AFTER_S})
        feature = disabled_feature(path, request.method, chat_enabled=live.chat_enabled,
                                   images_enabled=live.images_enabled)
        if feature:
            raise FeatureDisabled(f"The {feature} feature is switched off by an administrator.",
                                  feature=feature)
