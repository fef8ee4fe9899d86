"""Which requests stay open in maintenance, need the chat / images features, or are never rate
limited: declared on the routes with `@policy`, inherited by requests that match no route."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import Settings
from middlewares.policy import request_policy

APP = create_app(Settings(app_env="test"))  # routes only: nothing is started


def _policy(path: str, method: str = "GET"):
    adapter = APP.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method=method)
    except Exception:  # 404/405: no view
        endpoint = None
    return request_policy(APP, endpoint, path, method)


@pytest.mark.parametrize("path, open_", [
    ("/health", True), ("/health/live", True), ("/api/v1/webhooks/clerk", True),
    ("/api/v1/webhooks/paypal", True), ("/api/v1/admin", True), ("/api/v1/admin/settings", True),
    ("/api/v1/admin/gift-codes", True), ("/api/v1/admin/whoami", True), ("/api/v1/webhooks/nosuch", True),
    ("/openapi.json", True), ("/docs", True), ("/metrics", True), ("/v1/chat/completions", False),
    ("/api/v1/me", False), ("/api/v1/chat", False), ("/api/v1/administrator", False),
    ("/api/v1/webhooksx", False), ("/media/a.webp", False), ("/nope", False),
    ("/", True),  # the web app stays up to say so (and to let admins sign in)
    ("/assets/app.js", True), ("/api/v1/client-config", True), ("/api/v1/dev/outbox", True),
])
def test_open_paths_in_maintenance(path, open_):
    assert _policy(path).open_in_maintenance is open_


@pytest.mark.parametrize("path, method, expected", [
    ("/api/v1/chat", "POST", "chat"),
    ("/api/v1/chat/stream", "POST", "chat"),
    ("/api/v1/chatter", "POST", None),
    ("/api/v1/conversations", "GET", None),
    ("/api/v1/images", "POST", "images"),
    ("/api/v1/images/", "POST", "images"),
    ("/api/v1/images/edits", "POST", "images"),
    ("/api/v1/images/describe", "POST", "images"),
    ("/api/v1/images", "GET", None),
    ("/api/v1/images/img_1/save", "POST", None),
    ("/api/v1/images/img_1", "DELETE", None),
    ("/v1/chat/completions", "POST", "chat"),
    ("/v1/images/generations", "POST", "images"),
    ("/v1/images/edits", "POST", "images"),
    ("/v1/models", "GET", None),
])
def test_feature_switches(path, method, expected):
    assert _policy(path, method).feature == expected


@pytest.mark.parametrize("path, limited", [
    ("/health", False), ("/health/live", False), ("/api/v1/webhooks/clerk", False),
    ("/api/v1/webhooks/paypal", False), ("/api/v1/webhooks/nosuch", False),
    ("/metrics", False),
    ("/api/v1/me", True), ("/api/v1/chat", True), ("/api/v1/webhooksx", True), ("/openapi.json", True),
])
def test_rate_limit_exemptions(path, limited):
    assert _policy(path, "POST" if "webhooks" in path else "GET").rate_limited is limited


@pytest.mark.parametrize("path, bucket", [
    ("/media/u/a.webp", "media"), ("/api/v1/images/img_1", "api"), ("/api/v1/me", "api"),
])
def test_media_downloads_use_their_own_bucket(path, bucket):
    assert _policy(path).rate_bucket == bucket
