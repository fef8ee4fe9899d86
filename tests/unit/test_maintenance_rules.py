"""Which paths stay open in maintenance, and which need the chat / images features."""

from __future__ import annotations

import pytest

from middlewares.maintenance import disabled_feature, is_open


@pytest.mark.parametrize("path, open_", [
    ("/health", True), ("/health/live", True), ("/api/v1/webhooks/clerk", True),
    ("/api/v1/webhooks/paypal", True), ("/api/v1/admin", True), ("/api/v1/admin/settings", True),
    ("/openapi.json", True), ("/docs", True),
    ("/api/v1/me", False), ("/api/v1/chat", False), ("/api/v1/administrator", False),
    ("/api/v1/webhooksx", False), ("/media/a.webp", False), ("/", False),
])
def test_open_paths_in_maintenance(path, open_):
    assert is_open(path) is open_


@pytest.mark.parametrize("path, method, chat, images, expected", [
    ("/api/v1/chat", "POST", False, True, "chat"),
    ("/api/v1/chat/stream", "POST", False, True, "chat"),
    ("/api/v1/chat", "POST", True, False, None),
    ("/api/v1/chatter", "POST", False, True, None),
    ("/api/v1/conversations", "GET", False, True, None),
    ("/api/v1/images", "POST", True, False, "images"),
    ("/api/v1/images/edits", "POST", True, False, "images"),
    ("/api/v1/images/describe", "POST", True, False, "images"),
    ("/api/v1/images", "GET", True, False, None),
    ("/api/v1/images/img_1/save", "POST", True, False, None),
    ("/api/v1/images/img_1", "DELETE", True, False, None),
])
def test_feature_switches(path, method, chat, images, expected):
    assert disabled_feature(path, method, chat_enabled=chat, images_enabled=images) == expected
