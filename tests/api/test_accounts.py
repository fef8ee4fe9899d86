"""Muse's own accounts over HTTP (contract §17): the full journey, reset, refresh, cookies, ordinary users."""

from __future__ import annotations

import asyncio

from app import create_app
from services.platform.principal import Role
from tests.conftest import app_instances
from tests.fixtures.accounts import PASSWORD, bearer, local_settings_for, mailed_token, register


async def test_register_verify_login_use_logout_is_refused_at_once_by_a_second_instance(servers, tmp_path):
    settings = local_settings_for(servers, tmp_path)
    async with app_instances(settings) as apps:
        one, two = (a.test_client() for a in apps)
        created = await register(one, "Ada@Example.com", name="Ada")
        assert created["token_type"] == "bearer" and created["expires_in"] == 3600
        assert created["user"]["email"] == "ada@example.com" and created["user"]["name"] == "Ada"
        assert created["user"]["role"] == "USER" and created["user"]["clerk_id"].startswith("local:acc_")

        token = await mailed_token(apps[0], "ada@example.com", "confirm")
        verified = await two.post("/api/v1/auth/verify-email", json={"token": token})
        assert verified.status_code == 200
        assert (await verified.get_json())["email_verified"] is True
        again = await one.post("/api/v1/auth/verify-email", json={"token": token})
        assert again.status_code == 410 and (await again.get_json())["code"] == "gone"

        login = await one.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        assert login.status_code == 200
        session = (await login.get_json())["access_token"]
        me_one = await one.get("/api/v1/me", headers=bearer(session))
        me_two = await two.get("/api/v1/me", headers=bearer(session))  # both instances may cache it now
        assert me_one.status_code == me_two.status_code == 200
        assert (await me_two.get_json())["id"] == created["user"]["id"]
        chat = await two.post("/api/v1/chat", headers=bearer(session),
                              json={"messages": [{"role": "user", "content": "Hi"}]})
        assert chat.status_code == 200

        out = await one.post("/api/v1/auth/logout", headers=bearer(session))
        assert out.status_code == 204
        assert "muse_session=;" in out.headers["Set-Cookie"]
        refused = await two.get("/api/v1/me", headers=bearer(session))
        assert refused.status_code == 401 and (await refused.get_json())["code"] == "unauthorized"
        assert (await one.get("/api/v1/me", headers=bearer(session))).status_code == 401
        # The registration session is a different one and still works.
        assert (await two.get("/api/v1/me", headers=bearer(created["access_token"]))).status_code == 200


async def test_reset_revokes_every_other_session_and_its_token_works_once(local_app, local_client):
    client = local_client
    first = (await register(client, "bob@example.com"))["access_token"]
    login = await client.post("/api/v1/auth/login", json={"email": "bob@example.com", "password": PASSWORD})
    second = (await login.get_json())["access_token"]

    forgot = await client.post("/api/v1/auth/password/forgot", json={"email": "BOB@example.com"})
    assert forgot.status_code == 202
    token = await mailed_token(local_app, "bob@example.com", "reset")
    new_password = "a brand new passphrase"
    reset = await client.post("/api/v1/auth/password/reset", json={"token": token, "password": new_password})
    assert reset.status_code == 200
    fresh = (await reset.get_json())["access_token"]

    for old in (first, second):
        assert (await client.get("/api/v1/me", headers=bearer(old))).status_code == 401
        assert (await client.post("/api/v1/auth/refresh", headers=bearer(old))).status_code == 401
    assert (await client.get("/api/v1/me", headers=bearer(fresh))).status_code == 200
    replay = await client.post("/api/v1/auth/password/reset",
                               json={"token": token, "password": "yet another one!"})
    assert replay.status_code == 410
    old_login = await client.post("/api/v1/auth/login",
                                  json={"email": "bob@example.com", "password": PASSWORD})
    assert old_login.status_code == 401
    new_login = await client.post("/api/v1/auth/login",
                                  json={"email": "bob@example.com", "password": new_password})
    assert new_login.status_code == 200


async def test_a_weak_password_does_not_spend_the_reset_token(local_app, local_client):
    await register(local_client, "cy@example.com")
    await local_client.post("/api/v1/auth/password/forgot", json={"email": "cy@example.com"})
    token = await mailed_token(local_app, "cy@example.com", "reset")
    reset = "/api/v1/auth/password/reset"
    weak = await local_client.post(reset, json={"token": token, "password": "password123"})
    assert weak.status_code == 422
    good = await local_client.post(reset, json={"token": token, "password": "plum tree at dusk"})
    assert good.status_code == 200


async def test_forgot_answers_202_for_unknown_addresses_and_sends_nothing(local_app, local_client):
    for email in ("nobody@example.com", "not-an-address"):
        response = await local_client.post("/api/v1/auth/password/forgot", json={"email": email})
        assert response.status_code == 202
        assert await response.get_json() == {"status": "accepted"}
    await asyncio.sleep(0.1)
    assert await local_app.extensions["container"].identity.outbox.list() == []


async def test_reset_mail_to_one_address_is_limited_to_three_an_hour(local_app, local_client):
    await register(local_client, "hoa@example.com")
    await mailed_token(local_app, "hoa@example.com", "confirm")
    for _ in range(5):
        response = await local_client.post("/api/v1/auth/password/forgot", json={"email": "hoa@example.com"})
        assert response.status_code == 202
    await mailed_token(local_app, "hoa@example.com", "reset")
    await local_app.extensions["container"].identity.accounts.aclose()
    mails = await local_app.extensions["container"].identity.outbox.list()
    assert [m.subject for m in mails].count("Reset your Muse password") == 3


async def test_refresh_renews_the_session_once_per_token(local_client):
    created = await register(local_client, "dee@example.com")
    renewed = await local_client.post("/api/v1/auth/refresh", headers=bearer(created["access_token"]))
    assert renewed.status_code == 200
    token = (await renewed.get_json())["access_token"]
    assert token != created["access_token"]
    assert (await local_client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    # A token already used to refresh cannot refresh again (a stolen copy cannot keep the session).
    replay = await local_client.post("/api/v1/auth/refresh", headers=bearer(created["access_token"]))
    assert replay.status_code == 401
    assert (await local_client.post("/api/v1/auth/refresh", headers=bearer("not.a.jwt"))).status_code == 401


async def test_the_session_cookie_is_httponly_lax_secure_and_authenticates(local_client):
    response = await local_client.post("/api/v1/auth/register",
                                       json={"email": "eve@example.com", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("muse_session=")
    for attribute in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/"):
        assert attribute in cookie
    token = (await response.get_json())["access_token"]
    me = await local_client.get("/api/v1/me", headers={"Cookie": f"muse_session={token}"})
    assert me.status_code == 200 and (await me.get_json())["email"] == "eve@example.com"


async def test_the_cookie_is_not_secure_in_development(servers, tmp_path):
    settings = local_settings_for(servers, tmp_path, app_env="development")
    app = create_app(settings)
    async with app.test_app():
        response = await app.test_client().post("/api/v1/auth/register",
                                                json={"email": "dev@example.com", "password": PASSWORD})
        await mailed_token(app, "dev@example.com", "confirm")  # sent in the background
        outbox = await app.test_client().get("/api/v1/dev/outbox")
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert response.status_code == 201
    assert "Secure" not in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    assert outbox.status_code == 200
    items = (await outbox.get_json())["items"]
    assert items and items[0]["to"] == "dev@example.com" and "token=" in items[0]["text"]


async def test_the_outbox_is_404_outside_development(local_client):
    response = await local_client.get("/api/v1/dev/outbox")
    assert response.status_code == 404 and (await response.get_json())["code"] == "not_found"


async def test_auth_routes_are_404_when_clerk_signs_users_in(client):
    bodies = {"register": {"email": "x@example.com", "password": PASSWORD},
              "login": {"email": "x@example.com", "password": PASSWORD},
              "password/forgot": {"email": "x@example.com"}, "refresh": None, "logout": None}
    for path, body in bodies.items():
        response = await client.post(f"/api/v1/auth/{path}", json=body)
        assert response.status_code == 404, path


async def test_a_taken_email_is_409(local_client):
    await register(local_client, "fay@example.com")
    again = await local_client.post("/api/v1/auth/register",
                                    json={"email": " FAY@example.com ", "password": "another passphrase"})
    assert again.status_code == 409 and (await again.get_json())["code"] == "conflict"


async def test_accounts_are_ordinary_users_keys_admin_and_disabling(local_app, local_client):
    created = await register(local_client, "gus@example.com")
    key = await local_client.post("/api/v1/api-keys", json={"name": "cli"},
                                  headers=bearer(created["access_token"]))
    assert key.status_code == 201
    secret = (await key.get_json())["key"]
    assert (await local_client.get("/api/v1/me", headers=bearer(secret))).status_code == 200

    admin = await register(local_client, "root@example.com")
    await local_app.extensions["container"].identity.users.set_role(admin["user"]["id"], Role.ADMIN)
    patched = await local_client.patch(f"/api/v1/admin/users/{created['user']['id']}",
                                       json={"disabled": True}, headers=bearer(admin["access_token"]))
    assert patched.status_code == 200
    blocked = await local_client.post("/api/v1/auth/login",
                                      json={"email": "gus@example.com", "password": PASSWORD})
    assert blocked.status_code == 403 and (await blocked.get_json())["code"] == "account_disabled"
    assert (await local_client.get("/api/v1/me", headers=bearer(created["access_token"]))).status_code == 403


async def test_clerk_shaped_tokens_signed_elsewhere_are_refused_with_local_accounts(local_client):
    from tests.fixtures.identity import make_token

    response = await local_client.get("/api/v1/me", headers=bearer(make_token("user_clerk")))
    assert response.status_code == 401
