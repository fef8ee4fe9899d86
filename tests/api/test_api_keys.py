"""API keys over HTTP (contract §7): shown once, hashed at rest, revocation effective everywhere at once."""

from __future__ import annotations

import hashlib
import re

from tests.conftest import app_instances, make_settings
from tests.fixtures.identity import auth_headers


async def _create(client, headers, name="ci") -> dict:
    response = await client.post("/api/v1/api-keys", json={"name": name}, headers=headers)
    assert response.status_code == 201
    return await response.get_json()


async def test_create_shows_the_key_once_and_stores_only_its_hash(app, client, container):
    headers = await auth_headers(app, "user_keys")
    body = await _create(client, headers)
    assert re.fullmatch(r"mk_live_[A-Za-z0-9_-]{43}", body["key"])
    assert body["id"].startswith("key_") and body["key"].startswith(body["prefix"]) and body["name"] == "ci"
    raw = await container.platform.database.db["api_keys"].find_one({"_id": body["id"]})
    assert raw["secret_hash"] == hashlib.sha256(body["key"].encode()).hexdigest()
    assert body["key"] not in str(raw)

    listed = await (await client.get("/api/v1/api-keys", headers=headers)).get_json()
    assert [k["id"] for k in listed["items"]] == [body["id"]]
    assert "key" not in listed["items"][0] and listed["next_cursor"] is None


async def test_api_key_authenticates_as_its_owner(app, client):
    headers = await auth_headers(app, "user_owner")
    key = (await _create(client, headers))["key"]
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert (await response.get_json())["clerk_id"] == "user_owner"


async def test_unknown_or_malformed_api_keys_are_401(client):
    for key in ("mk_live_" + "a" * 43, "mk_test_x", "mk_"):
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 401
        assert (await response.get_json())["code"] == "unauthorized"


async def test_another_users_key_cannot_be_revoked(app, client):
    alice = await auth_headers(app, "user_alice")
    bob = await auth_headers(app, "user_bob")
    key = await _create(client, alice)
    response = await client.delete(f"/api/v1/api-keys/{key['id']}", headers=bob)
    assert response.status_code == 404
    still = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {key['key']}"})
    assert still.status_code == 200


async def test_name_is_validated(app, client):
    response = await client.post("/api/v1/api-keys", json={"name": ""}, headers=await auth_headers(app))
    assert response.status_code == 422


async def test_revoked_key_is_refused_at_once_by_every_instance(servers, tmp_path):
    settings = make_settings(servers, tmp_path)
    async with app_instances(settings) as apps:
        one, two = (a.test_client() for a in apps)
        headers = await auth_headers(apps[0], "user_revoke")
        created = await _create(one, headers)
        bearer = {"Authorization": f"Bearer {created['key']}"}
        # Both instances have used (and could have cached) the key.
        assert (await one.get("/api/v1/me", headers=bearer)).status_code == 200
        assert (await two.get("/api/v1/me", headers=bearer)).status_code == 200
        digest = hashlib.sha256(created["key"].encode()).hexdigest()
        redis = apps[0].extensions["container"].platform.redis
        assert await redis.get(f"muse:{settings.mongodb_db}:apikey:{digest}") not in (None, b"-")  # cached

        revoked = await one.delete(f"/api/v1/api-keys/{created['id']}", headers=headers)
        assert revoked.status_code == 204
        after_two = await two.get("/api/v1/me", headers=bearer)
        after_one = await one.get("/api/v1/me", headers=bearer)
        listed = await (await two.get("/api/v1/api-keys", headers=headers)).get_json()
        again = await two.delete(f"/api/v1/api-keys/{created['id']}", headers=headers)
    assert after_two.status_code == 401 and after_one.status_code == 401
    assert listed["items"] == []
    assert again.status_code == 404
