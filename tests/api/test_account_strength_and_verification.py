"""Issue 27 item 3: new passwords are scored by zxcvbn (AUTH_PASSWORD_MIN_SCORE, default 3; the 422
names zxcvbn's reason), and with AUTH_REQUIRE_VERIFIED_EMAIL the signup grant of a local account
waits for its confirmed email (once, whichever confirmation comes first)."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.config import Settings
from tests.conftest import app_instances
from tests.fixtures.accounts import PASSWORD, bearer, local_settings_for, mailed_token, register

REGISTER = "/api/v1/auth/register"


@pytest.mark.parametrize("password", ["password1234", "Password1234!", "passw0rd1234", "password12345"])
async def test_password1234_and_its_relatives_are_refused_with_zxcvbns_reason(local_client, password):
    response = await local_client.post(REGISTER, json={"email": "ada@example.com", "password": password})
    assert response.status_code == 422
    body = await response.get_json()
    assert body["errors"][0]["loc"] == ["body", "password"]
    detail = body["detail"]
    assert detail.startswith("The password is too easy to guess (strength 1 of 4, at least 3 needed).")
    assert "common" in detail.lower()  # zxcvbn's warning: "(similar to) a very common password"
    assert password not in json.dumps(body)


async def test_the_email_and_name_count_against_a_password(local_client):
    response = await local_client.post(REGISTER, json={"email": "zebulon.quartermain@example.com",
                                                       "password": "zebulonquartermain", "name": "Zebulon"})
    assert response.status_code == 422
    assert "too easy to guess" in (await response.get_json())["detail"]


async def test_a_weak_new_password_on_reset_is_refused_too(local_app, local_client):
    await register(local_client, "bea@example.com")
    await local_client.post("/api/v1/auth/password/forgot", json={"email": "bea@example.com"})
    token = await mailed_token(local_app, "bea@example.com", "reset")
    weak = await local_client.post("/api/v1/auth/password/reset",
                                   json={"token": token, "password": "Password1234!"})
    assert weak.status_code == 422 and "too easy to guess" in (await weak.get_json())["detail"]


@pytest.mark.parametrize("min_score, accepted", [(0, True), (3, False)])
async def test_the_minimum_score_is_a_setting(servers, tmp_path, min_score, accepted):
    settings = local_settings_for(servers, tmp_path, auth_password_min_score=min_score)
    async with app_instances(settings, count=1) as (app,):
        response = await app.test_client().post(REGISTER, json={"email": "cal@example.com",
                                                                 "password": "password1234"})
    assert (response.status_code == 201) is accepted


async def _balance(client, token: str) -> int:
    return (await (await client.get("/api/v1/credits", headers=bearer(token))).get_json())["balance"]


async def _grants(app) -> int:
    db = app.extensions["container"].platform.database.db
    return await db["credit_ledger"].count_documents({"kind": "grant"})


@pytest.fixture
async def verifying_app(servers, tmp_path):
    async with app_instances(local_settings_for(servers, tmp_path, auth_require_verified_email=True),
                             count=1) as (app,):
        yield app


async def test_an_unverified_email_gets_no_grant_until_it_is_confirmed(verifying_app):
    client = verifying_app.test_client()
    token = (await register(client, "dee@example.com"))["access_token"]
    login = await client.post("/api/v1/auth/login", json={"email": "dee@example.com", "password": PASSWORD})
    assert login.status_code == 200  # signing in works; only the grant waits
    assert await _balance(client, token) == 0 and await _grants(verifying_app) == 0

    mailed = await mailed_token(verifying_app, "dee@example.com", "confirm")
    assert (await client.post("/api/v1/auth/verify-email", json={"token": mailed})).status_code == 200
    assert await _balance(client, token) == 50 and await _grants(verifying_app) == 1
    again = await client.post("/api/v1/auth/verify-email", json={"token": mailed})
    assert again.status_code == 410
    # A later password reset (the mailbox answers again) gives nothing more.
    await client.post("/api/v1/auth/password/forgot", json={"email": "dee@example.com"})
    reset = await mailed_token(verifying_app, "dee@example.com", "reset")
    answered = await client.post("/api/v1/auth/password/reset",
                                 json={"token": reset, "password": "a brand new passphrase"})
    assert answered.status_code == 200
    assert await _grants(verifying_app) == 1


async def test_confirming_by_link_and_by_reset_at_once_grants_once(verifying_app):
    client = verifying_app.test_client()
    await register(client, "eve@example.com")
    await client.post("/api/v1/auth/password/forgot", json={"email": "eve@example.com"})
    verify = await mailed_token(verifying_app, "eve@example.com", "confirm")
    reset = await mailed_token(verifying_app, "eve@example.com", "reset")
    answers = await asyncio.gather(
        client.post("/api/v1/auth/verify-email", json={"token": verify}),
        client.post("/api/v1/auth/password/reset", json={"token": reset, "password": "plum tree at dusk"}))
    assert [r.status_code for r in answers] == [200, 200]
    token = (await answers[1].get_json())["access_token"]  # the reset ended the other sessions
    assert await _grants(verifying_app) == 1 and await _balance(client, token) == 50


def test_verified_email_is_required_by_default_in_production_only():
    def settings(**values) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    assert settings(app_env="production").require_verified_email is True
    assert settings(app_env="development").require_verified_email is False
    assert settings(app_env="production", auth_require_verified_email=False).require_verified_email is False
    assert settings(app_env="test", auth_require_verified_email=True).require_verified_email is True
    assert settings().auth_password_min_score == 3

