"""Clerk session JWTs over HTTP: what is accepted, what is a 401 problem, disabled users."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import pytest

from app import create_app
from providers.dev_keys import generate_key_pair
from tests.conftest import app_instances, make_settings
from tests.fixtures.identity import TEST_JWT_PUBLIC_PEM, auth_headers, make_token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict, header: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _claims(sub: str = "user_forged") -> dict:
    now = int(time.time())
    return {"sub": sub, "sid": "sess_1", "iat": now, "nbf": now - 1, "exp": now + 600,
            "azp": "http://localhost:3000", "v": 2}


def _alg_none() -> str:
    return _unsigned(_claims(), {"alg": "none", "typ": "JWT"}) + "."


def _hs256_with_public_key() -> str:
    signing_input = _unsigned(_claims(), {"alg": "HS256", "typ": "JWT", "kid": "ins_test"})
    digest = hmac.new(TEST_JWT_PUBLIC_PEM.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(digest)}"


async def test_valid_rs256_token_is_accepted_and_creates_the_user(client):
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {make_token('user_ok')}"})
    body = await response.get_json()
    assert response.status_code == 200
    assert body["clerk_id"] == "user_ok"
    assert body["id"].startswith("usr_")
    assert body["role"] == "USER" and body["plan"] == "free"
    assert body["created_at"].endswith("Z")


async def test_session_cookie_is_accepted(client):
    client.set_cookie("localhost", "__session", make_token("user_cookie"))
    response = await client.get("/api/v1/me")
    assert response.status_code == 200
    assert (await response.get_json())["clerk_id"] == "user_cookie"


async def test_token_expired_within_leeway_is_accepted(client):
    token = make_token("user_skew", exp=int(time.time()) - 2)
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


BAD_TOKENS = {
    "expired": lambda: make_token("user_x", exp=int(time.time()) - 30),
    "not_yet_valid": lambda: make_token("user_x", nbf=int(time.time()) + 60),
    "wrong_key": lambda: make_token("user_x", private_pem=generate_key_pair()[0]),
    "alg_none": _alg_none,
    "hs256_signed_with_public_key": _hs256_with_public_key,
    "malformed": lambda: "not.a.jwt",
    "garbage": lambda: "abc",
    "no_subject": lambda: make_token(""),
    "no_expiry": lambda: make_token("user_x", exp=None),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_bad_token_is_a_401_unauthorized_problem(client, container, case):
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {BAD_TOKENS[case]()}"})
    body = await response.get_json()
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert body["code"] == "unauthorized"
    assert await container.identity.users.search(None, limit=5) == []  # nothing created


async def test_foreign_azp_is_refused_when_authorized_parties_are_set(servers, tmp_path):
    settings = make_settings(servers, tmp_path, clerk_authorized_parties="https://app.muse.test")
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        ok = await client.get("/api/v1/me", headers={
            "Authorization": f"Bearer {make_token('user_a', azp='https://app.muse.test')}"})
        foreign = await client.get("/api/v1/me", headers={
            "Authorization": f"Bearer {make_token('user_b', azp='https://evil.test')}"})
        missing = await client.get("/api/v1/me", headers={
            "Authorization": f"Bearer {make_token('user_c', azp=None)}"})
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert ok.status_code == 200
    assert foreign.status_code == 401 and (await foreign.get_json())["code"] == "unauthorized"
    assert missing.status_code == 401


async def test_missing_credentials_on_a_protected_route_is_401(client):
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.get_json())["code"] == "unauthorized"


async def test_non_bearer_authorization_scheme_is_401(client):
    response = await client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert response.status_code == 401


async def test_bad_credentials_on_a_public_route_are_served_anonymously(client):
    response = await client.get("/health/live", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 200


async def test_disabled_user_is_403_account_disabled(app, client):
    headers = await auth_headers(app, "user_disabled")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    users = app.extensions["container"].identity.users
    user = await users.get_by_clerk_id("user_disabled")
    await users.set_disabled(user.id, True)
    response = await client.get("/api/v1/me", headers=headers)
    body = await response.get_json()
    assert response.status_code == 403
    assert body["code"] == "account_disabled"


async def test_twenty_concurrent_first_requests_create_one_user(app, client):
    created: list[str] = []

    async def hook(user):
        created.append(user.id)

    container = app.extensions["container"]
    container.identity.users.on_created.append(hook)
    headers = {"Authorization": f"Bearer {make_token('user_race')}"}
    responses = await asyncio.gather(*(client.get("/api/v1/me", headers=headers) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    ids = {(await r.get_json())["id"] for r in responses}
    assert len(ids) == 1
    assert created == list(ids)
    raw = await container.platform.database.db["users"].count_documents({"clerk_id": "user_race"})
    assert raw == 1


async def test_disabling_a_user_takes_effect_at_once_on_another_instance(servers, tmp_path):
    settings = make_settings(servers, tmp_path)
    async with app_instances(settings) as apps:
        one, two = (a.test_client() for a in apps)
        headers = {"Authorization": f"Bearer {make_token('user_flip')}"}
        assert (await one.get("/api/v1/me", headers=headers)).status_code == 200
        redis = apps[0].extensions["container"].platform.redis
        prefix = f"muse:{settings.mongodb_db}:user:"
        await redis.delete(*[k async for k in redis.scan_iter(prefix + "*")])  # creation tombstones expire
        for _ in range(2):  # both instances now serve the user from the shared cache
            assert (await one.get("/api/v1/me", headers=headers)).status_code == 200
            assert (await two.get("/api/v1/me", headers=headers)).status_code == 200
        assert await redis.get(prefix + "clerk:user_flip") not in (None, b"-")
        users = apps[1].extensions["container"].identity.users
        await users.set_disabled((await users.get_by_clerk_id("user_flip")).id, True)
        after = await one.get("/api/v1/me", headers=headers)
    assert after.status_code == 403 and (await after.get_json())["code"] == "account_disabled"


async def test_a_token_accepted_earlier_is_refused_once_it_expires(client):
    token = make_token("user_short", ttl_s=-3)  # expired 3 s ago: still inside the 5 s leeway
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    await asyncio.sleep(3.1)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
