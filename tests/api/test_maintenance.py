"""Maintenance mode and feature switches over HTTP, including two processes sharing MongoDB."""

from __future__ import annotations

import asyncio
import time

from tests.fixtures.admin import PROBE_PATH, running_app, set_live
from tests.fixtures.identity import auth_headers


async def _wait_for_status(client, path: str, status: int, *, within: float) -> float:
    started = time.monotonic()
    while True:
        response = await client.get(path)
        if response.status_code == status:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"{path} still {response.status_code} after {within}s"
        await asyncio.sleep(0.1)


async def test_maintenance_switched_on_in_one_instance_reaches_the_other_within_5s(settings):
    async with running_app(settings) as first, running_app(settings, drop=True) as second:
        a, b = first.test_client(), second.test_client()
        admin = await auth_headers(first, "ops_admin", role="ADMIN")
        assert (await a.get(PROBE_PATH)).status_code == 200
        assert (await b.get(PROBE_PATH)).status_code == 200  # b has now cached "serving"

        switched = await a.patch("/api/v1/admin/settings", headers=admin, json={"maintenance_mode": True})
        assert switched.status_code == 200 and (await switched.get_json())["maintenance_mode"] is True
        assert (await a.get(PROBE_PATH)).status_code == 503  # the writer sees it at once
        delay = await _wait_for_status(b, PROBE_PATH, 503, within=5.0)
        response = await b.get(PROBE_PATH)
        body = await response.get_json()
        assert response.content_type == "application/problem+json"
        assert body["code"] == "maintenance" and body["request_id"] == response.headers["X-Request-ID"]
        assert response.headers["Retry-After"] == "60"
        assert delay <= 5.0
        # The admin API stays open in maintenance, on both instances.
        assert (await b.get("/api/v1/admin/settings", headers=admin)).status_code == 200

        switched = await b.patch("/api/v1/admin/settings", headers=admin, json={"maintenance_mode": False})
        assert switched.status_code == 200
        assert (await b.get(PROBE_PATH)).status_code == 200
        await _wait_for_status(a, PROBE_PATH, 200, within=5.0)


async def test_health_webhooks_admin_and_docs_stay_open_during_maintenance(settings):
    async with running_app(settings, drop=True) as app:
        client = app.test_client()
        await set_live(app, maintenance_mode=True)
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/health/live")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/docs")).status_code == 200
        # Open paths reach their own handlers: admin needs credentials, unknown webhooks are 404/405.
        assert (await client.get("/api/v1/admin/settings")).status_code in (401, 403)
        assert (await client.post("/api/v1/webhooks/nosuch", json={})).status_code != 503
        for path in (PROBE_PATH, "/api/v1/me", "/api/v1/chat", "/api/v1/images", "/media/x.png", "/nope"):
            response = await client.get(path)
            assert response.status_code == 503, path
            assert (await response.get_json())["code"] == "maintenance"


async def test_chat_switch_blocks_chat_only(settings):
    async with running_app(settings, drop=True) as app:
        client = app.test_client()
        await set_live(app, chat_enabled=False)
        for path in ("/api/v1/chat", "/api/v1/chat/stream"):
            response = await client.post(path, json={"messages": [{"role": "user", "content": "hi"}]})
            body = await response.get_json()
            assert response.status_code == 503 and body["code"] == "feature_disabled", path
            assert body["feature"] == "chat"
        assert (await client.get("/api/v1/conversations")).status_code != 503
        assert (await client.post("/api/v1/images", json={"prompt": "x"})).status_code != 503
        assert (await client.get(PROBE_PATH)).status_code == 200
        await set_live(app, chat_enabled=True)
        assert (await client.post("/api/v1/chat", json={})).status_code != 503


async def test_images_switch_blocks_generation_but_not_the_gallery(settings):
    async with running_app(settings, drop=True) as app:
        client = app.test_client()
        await set_live(app, images_enabled=False)
        for path in ("/api/v1/images", "/api/v1/images/", "/api/v1/images/edits", "/api/v1/images/describe"):
            response = await client.post(path, json={"prompt": "a cat"})
            body = await response.get_json()
            assert response.status_code == 503 and body["code"] == "feature_disabled", path
            assert body["feature"] == "images"
        for method, path in (("GET", "/api/v1/images"), ("GET", "/api/v1/images/img_1"),
                             ("DELETE", "/api/v1/images/img_1"), ("POST", "/api/v1/images/img_1/save")):
            response = await client.open(path, method=method)
            assert response.status_code != 503, (method, path)
        assert (await client.post("/api/v1/chat", json={})).status_code != 503
