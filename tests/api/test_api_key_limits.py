"""API-key limits over /api/v1 (contract §19): scopes, expiry, models, client networks and
spend caps, each refused by name; PATCH effective at once in every process; caps atomic."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from services.platform import clock as clock_module
from services.platform.clock import isoformat, utcnow
from tests.conftest import app_instances, make_settings
from tests.fixtures.identity import auth_headers


async def _key(client, headers, **limits) -> dict:
    response = await client.post("/api/v1/api-keys", json={"name": "limited", **limits}, headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


def _bearer(key: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['key']}"}


def _chat(text: str | None = None, **fields) -> dict:
    return {"messages": [{"role": "user", "content": text or f"hello {uuid.uuid4().hex}"}], **fields}


async def _problem(response, status: int, code: str) -> dict:
    body = await response.get_json()
    assert response.status_code == status, body
    assert response.content_type.startswith("application/problem+json")
    assert body["code"] == code and body["detail"]
    return body


async def test_limits_are_stored_shown_and_validated(app, client):
    headers = await auth_headers(app, "user_limits")
    expires = isoformat(utcnow() + timedelta(days=3))
    key = await _key(client, headers, scopes=["chat", "images"], expires_at=expires, daily_credit_cap=5,
                     monthly_credit_cap=50, models=["default"], allowed_ips=["10.0.0.0/8", "127.0.0.1"])
    assert key["scopes"] == ["chat", "images"] and key["daily_credit_cap"] == 5
    assert key["models"] == ["default"] and key["allowed_ips"] == ["10.0.0.0/8", "127.0.0.1/32"]
    assert key["expires_at"] == expires and key["spent_today"] == 0 and key["spent_this_month"] == 0
    listed = (await (await client.get("/api/v1/api-keys", headers=headers)).get_json())["items"][0]
    assert listed["monthly_credit_cap"] == 50 and listed["last_used_at"] is None and "key" not in listed

    for field, value in (("scopes", ["chat", "admin"]), ("expires_at", isoformat(utcnow() - timedelta(1))),
                         ("daily_credit_cap", -1), ("models", ["gpt-9"]), ("allowed_ips", ["10.0.0.300/8"]),
                         ("expires_at", "2030-01-01T00:00:00"), ("colour", "red")):
        response = await client.post("/api/v1/api-keys", json={"name": "x", field: value}, headers=headers)
        body = await response.get_json()
        assert response.status_code == 422, (field, body)
        assert field in str(body), (field, body)
    assert len((await (await client.get("/api/v1/api-keys", headers=headers)).get_json())["items"]) == 1


async def test_route_outside_the_scopes_is_403_api_key_scope(app, client):
    key = await _key(client, await auth_headers(app, "user_scope"), scopes=["images"])
    body = await _problem(await client.post("/api/v1/chat", json=_chat(), headers=_bearer(key)),
                          403, "api_key_scope")
    assert "chat" in body["detail"]
    await _problem(await client.get("/api/v1/conversations", headers=_bearer(key)), 403, "api_key_scope")
    assert (await client.get("/api/v1/images", headers=_bearer(key))).status_code == 200
    assert (await client.get("/api/v1/me", headers=_bearer(key))).status_code == 200  # no scope needed


async def test_model_not_allowed_is_403_api_key_model_and_charges_nothing(app, client, container):
    headers = await auth_headers(app, "user_model")
    key = await _key(client, headers, models=["replicate"])
    await _problem(await client.post("/api/v1/chat", json=_chat(model="default"), headers=_bearer(key)),
                   403, "api_key_model")
    await _problem(await client.post("/api/v1/images", json={"prompt": "a fox"}, headers=_bearer(key)),
                   403, "api_key_model")
    await container.credits.service.settle()
    assert await container.platform.database.db["credit_ledger"].count_documents({"kind": "charge"}) == 0


async def test_client_address_outside_the_networks_is_403_api_key_ip(app, client):
    headers = await auth_headers(app, "user_ip")
    key = await _key(client, headers, allowed_ips=["10.1.0.0/16", "2001:db8::/32"])
    for address, status in (("10.1.200.7", 200), ("10.2.0.1", 403), ("2001:db8::1", 200),
                            ("::ffff:10.1.0.9", 200), ("192.168.1.5", 403)):
        response = await client.get("/api/v1/me", headers=_bearer(key),
                                    scope_base={"client": (address, 5000)})
        assert response.status_code == status, address
        if status == 403:
            assert (await _problem(response, 403, "api_key_ip"))["detail"].endswith(f"{address}.")
    # behind a trusted proxy (FORWARDED_ALLOW_IPS, loopback by default) the forwarded client counts;
    # the same header from an untrusted peer is ignored
    via_proxy = {**_bearer(key), "X-Forwarded-For": "10.1.3.4"}
    assert (await client.get("/api/v1/me", headers=via_proxy, scope_base={"client": ("127.0.0.1", 1)})
            ).status_code == 200
    spoofed = await client.get("/api/v1/me", headers=via_proxy, scope_base={"client": ("192.168.1.5", 1)})
    await _problem(spoofed, 403, "api_key_ip")
    # a session of the same user is not bound to the key's networks
    assert (await client.get("/api/v1/me", headers=headers, scope_base={"client": ("192.168.1.5", 1)})
            ).status_code == 200


async def test_an_expired_key_is_refused_at_once(app, client):
    key = await _key(client, await auth_headers(app, "user_exp"),
                     expires_at=isoformat(utcnow() + timedelta(minutes=5)))
    assert (await client.get("/api/v1/me", headers=_bearer(key))).status_code == 200  # now cached
    clock_module.clock.offset = timedelta(minutes=5, seconds=1)
    response = await client.get("/api/v1/me", headers=_bearer(key))
    await _problem(response, 401, "api_key_expired")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_daily_cap_is_429_with_retry_after_to_the_next_utc_day(app, client, container):
    headers = await auth_headers(app, "user_cap")
    key = await _key(client, headers, daily_credit_cap=2)
    for _ in range(2):
        assert (await client.post("/api/v1/chat", json=_chat(), headers=_bearer(key))).status_code == 200
    response = await client.post("/api/v1/chat", json=_chat(), headers=_bearer(key))
    body = await _problem(response, 429, "api_key_cap_reached")
    now = utcnow()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert abs(int(response.headers["Retry-After"]) - (midnight - now).total_seconds()) <= 3
    assert body["cap"] == "day" and body["limit"] == 2
    listed = (await (await client.get("/api/v1/api-keys", headers=headers)).get_json())["items"][0]
    assert listed["spent_today"] == 2 and listed["spent_this_month"] == 2 and listed["last_used_at"]
    # the session (not the key) is not capped
    assert (await client.post("/api/v1/chat", json=_chat(), headers=headers)).status_code == 200




async def test_a_hundred_parallel_requests_against_a_cap_of_ten_spend_exactly_ten(app, client, container):
    headers = await auth_headers(app, "user_race")
    key = await _key(client, headers, daily_credit_cap=10)
    responses = await asyncio.gather(*(
        client.post("/api/v1/chat", json=_chat(), headers=_bearer(key)) for _ in range(100)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 10 and statuses.count(429) == 90, statuses
    await container.credits.service.settle()
    charges = await container.platform.database.db["credit_ledger"].find({"kind": "charge"}).to_list(None)
    assert len(charges) == 10 and sum(-c["delta"] for c in charges) == 10
    assert all(c["meta"]["api_key_id"] == key["id"] for c in charges)
    listed = (await (await client.get("/api/v1/api-keys", headers=headers)).get_json())["items"][0]
    assert listed["spent_today"] == 10


async def test_patch_changes_limits_at_once_in_every_process(servers, tmp_path):
    settings = make_settings(servers, tmp_path)
    async with app_instances(settings) as apps:
        one, two = (a.test_client() for a in apps)
        headers = await auth_headers(apps[0], "user_patch")
        key = await _key(one, headers)
        assert (await two.get("/api/v1/conversations", headers=_bearer(key))).status_code == 200  # cached
        patched = await one.patch(f"/api/v1/api-keys/{key['id']}", json={"scopes": ["images"], "name": "img"},
                                  headers=headers)
        body = await patched.get_json()
        assert patched.status_code == 200 and body["scopes"] == ["images"] and body["name"] == "img"
        await _problem(await two.get("/api/v1/conversations", headers=_bearer(key)), 403, "api_key_scope")
        cleared = await one.patch(f"/api/v1/api-keys/{key['id']}", json={"scopes": None}, headers=headers)
        assert (await cleared.get_json())["scopes"] == ["chat", "describe", "embeddings", "images", "videos"]
        assert (await two.get("/api/v1/conversations", headers=_bearer(key))).status_code == 200
        other = await auth_headers(apps[0], "user_other")
        assert (await one.patch(f"/api/v1/api-keys/{key['id']}", json={"name": "x"},
                                headers=other)).status_code == 404
        bad = await one.patch(f"/api/v1/api-keys/{key['id']}", json={"limit": 3}, headers=headers)
        assert bad.status_code == 422 and "limit" in str(await bad.get_json())
