"""GET/PATCH /api/v1/admin/settings and the audit log over HTTP, as an ADMIN."""

from __future__ import annotations

from repositories.audit_log import AuditLogDocument
from repositories.live_settings import LiveSettingsDocument
from tests.fixtures.identity import auth_headers


async def test_admin_reads_the_default_settings(app, client):
    headers = await auth_headers(app, "admin_1", role="ADMIN")
    response = await client.get("/api/v1/admin/settings", headers=headers)
    body = await response.get_json()
    assert response.status_code == 200
    assert body["maintenance_mode"] is False
    assert body["chat_enabled"] is True and body["images_enabled"] is True
    assert body["signup_credits"] == app.extensions["container"].settings.signup_credits
    assert body["providers"] == {"gemini": True, "openai": True, "replicate": True, "local": True}
    assert body["version"] == 0 and body["updated_at"] is None and body["updated_by"] is None


async def test_admin_patch_is_stored_audited_and_partial(app, client, container):
    headers = await auth_headers(app, "admin_1", role="ADMIN")
    admin = await container.identity.users.get_by_clerk_id("admin_1")
    response = await client.patch("/api/v1/admin/settings", headers={**headers, "X-Request-ID": "req-set-1"},
                                  json={"images_enabled": False, "signup_credits": 25,
                                        "providers": {"replicate": False}})
    body = await response.get_json()
    assert response.status_code == 200
    assert body["images_enabled"] is False and body["signup_credits"] == 25
    assert body["providers"]["replicate"] is False and body["providers"]["openai"] is True
    assert body["chat_enabled"] is True and body["version"] == 1 and body["updated_by"] == admin.id
    assert body["updated_at"].endswith("Z")

    stored = await LiveSettingsDocument.get("global")
    assert stored.images_enabled is False and stored.providers["replicate"] is False and stored.version == 1
    entries = await AuditLogDocument.find_all().to_list()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor_id == admin.id and entry.action == "settings.update"
    assert entry.request_id == "req-set-1"
    assert entry.before["images_enabled"] is True and entry.after["images_enabled"] is False
    assert entry.before["signup_credits"] == 0 and entry.after["signup_credits"] == 25

    again = await client.get("/api/v1/admin/settings", headers=headers)
    assert (await again.get_json())["providers"]["replicate"] is False

    log = await client.get("/api/v1/admin/audit-log?action=settings.update", headers=headers)
    page = await log.get_json()
    assert log.status_code == 200 and page["next_cursor"] is None
    assert [item["id"] for item in page["items"]] == [entry.id]
    assert page["items"][0]["after"]["providers"]["replicate"] is False


async def test_invalid_settings_are_a_422_and_change_nothing(app, client):
    headers = await auth_headers(app, "admin_1", role="ADMIN")
    for bad in ({"maintenance_mode": "yes"}, {"signup_credits": -5}, {"colour": "red"},
                {"providers": {"nosuch": True}}, {"providers": {"gemini": "off"}}):
        response = await client.patch("/api/v1/admin/settings", headers=headers, json=bad)
        body = await response.get_json()
        assert response.status_code == 422, bad
        assert body["code"] == "validation_error" and body["errors"], bad
    assert await LiveSettingsDocument.get("global") is None
    assert await AuditLogDocument.count() == 0


async def test_audit_log_pages_newest_first(app, client):
    headers = await auth_headers(app, "admin_1", role="ADMIN")
    for credits in (1, 2, 3):
        await client.patch("/api/v1/admin/settings", headers=headers, json={"signup_credits": credits})
    first = await (await client.get("/api/v1/admin/audit-log?limit=2", headers=headers)).get_json()
    assert [i["after"]["signup_credits"] for i in first["items"]] == [3, 2]
    rest = await (await client.get(f"/api/v1/admin/audit-log?limit=2&cursor={first['next_cursor']}",
                                   headers=headers)).get_json()
    assert [i["after"]["signup_credits"] for i in rest["items"]] == [1]
    assert rest["next_cursor"] is None


async def test_signup_credits_set_by_an_admin_are_granted_to_new_users(app, client):
    admin = await auth_headers(app, "grant_admin", role="ADMIN")
    await client.patch("/api/v1/admin/settings", headers=admin, json={"signup_credits": 40})
    newcomer = await auth_headers(app, "brand_new_user")
    credits = await (await client.get("/api/v1/credits", headers=newcomer)).get_json()
    assert credits["balance"] == 40


async def test_admin_routes_are_documented_in_openapi(client):
    spec = await (await client.get("/openapi.json")).get_json()
    for path in ("/api/v1/admin/settings", "/api/v1/admin/audit-log", "/api/v1/admin/users",
                 "/api/v1/admin/users/{user_id}", "/api/v1/admin/users/{user_id}/credits",
                 "/api/v1/admin/stats"):
        assert path in spec["paths"], path
    assert "requestBody" in spec["paths"]["/api/v1/admin/settings"]["patch"]
