"""Clerk webhooks over HTTP: Svix signatures, upserts, deletion, once per svix-id."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from svix.webhooks import Webhook

from app import create_app
from tests.conftest import make_settings
from tests.fixtures.identity import auth_headers

SECRET = "whsec_" + base64.b64encode(b"muse-clerk-webhook-test-secret!!").decode()
URL = "/api/v1/webhooks/clerk"


def _user_event(kind: str, clerk_id: str, **data) -> dict:
    base = {
        "id": clerk_id, "object": "user", "first_name": "Ada", "last_name": "Lovelace",
        "image_url": "https://img.clerk.test/ada.png", "primary_email_address_id": "idn_2",
        "email_addresses": [{"id": "idn_1", "email_address": "old@example.com"},
                            {"id": "idn_2", "email_address": "ada@example.com"}],
    }
    base.update(data)
    return {"type": kind, "object": "event", "data": base}


def signed(event: dict, *, msg_id: str = "msg_1", ts: float | None = None, secret: str = SECRET):
    body = json.dumps(event)
    ts = time.time() if ts is None else ts
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(int(ts), tz=UTC), body)
    headers = {"svix-id": msg_id, "svix-timestamp": str(int(ts)), "svix-signature": signature,
               "Content-Type": "application/json"}
    return body, headers


@pytest.fixture
async def hook_app(servers, tmp_path):
    settings = make_settings(servers, tmp_path, clerk_webhook_secret=SECRET)
    application = create_app(settings)
    async with application.test_app():
        yield application
        await application.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)


async def _count(app, collection: str) -> int:
    return await app.extensions["container"].platform.database.db[collection].count_documents({})


async def test_valid_user_created_upserts_the_user(hook_app):
    body, headers = signed(_user_event("user.created", "user_hook"))
    response = await hook_app.test_client().post(URL, data=body, headers=headers)
    assert response.status_code == 200
    user = await hook_app.extensions["container"].identity.users.get_by_clerk_id("user_hook")
    assert user.email == "ada@example.com" and user.name == "Ada Lovelace"
    assert user.image_url == "https://img.clerk.test/ada.png"


async def test_user_updated_changes_profile_fields(hook_app):
    client = hook_app.test_client()
    body, headers = signed(_user_event("user.created", "user_hook"), msg_id="msg_a")
    await client.post(URL, data=body, headers=headers)
    body, headers = signed(_user_event("user.updated", "user_hook", first_name="Augusta"), msg_id="msg_b")
    assert (await client.post(URL, data=body, headers=headers)).status_code == 200
    users = hook_app.extensions["container"].identity.users
    assert (await users.get_by_clerk_id("user_hook")).name == "Augusta Lovelace"
    assert await _count(hook_app, "users") == 1


def _tamper(body, headers):
    return body.replace("Ada", "Eve"), headers


def _drop(name):
    return lambda body, headers: (body, {k: v for k, v in headers.items() if k != name})


def _other_secret(body, headers):
    other = "whsec_" + base64.b64encode(b"another-secret-another-secret!!!").decode()
    return signed(json.loads(body), secret=other)


BAD = {
    "tampered_body": _tamper,
    "wrong_secret": _other_secret,
    "missing_id": _drop("svix-id"),
    "missing_timestamp": _drop("svix-timestamp"),
    "missing_signature": _drop("svix-signature"),
    "signature_without_version": lambda body, headers: (body, {**headers, "svix-signature": "garbage"}),
    "six_minutes_old": lambda body, headers: signed(json.loads(body), ts=time.time() - 360),
    "six_minutes_ahead": lambda body, headers: signed(json.loads(body), ts=time.time() + 360),
}


@pytest.mark.parametrize("case", sorted(BAD))
async def test_bad_delivery_is_400_and_writes_nothing(hook_app, case):
    body, headers = BAD[case](*signed(_user_event("user.created", "user_bad")))
    response = await hook_app.test_client().post(URL, data=body, headers=headers)
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert await _count(hook_app, "users") == 0
    assert await _count(hook_app, "webhook_events") == 0


async def test_same_svix_id_twice_is_processed_once(hook_app):
    client = hook_app.test_client()
    created = []

    async def hook(user):
        created.append(user.id)

    hook_app.extensions["container"].identity.users.on_created.append(hook)
    body, headers = signed(_user_event("user.created", "user_once"), msg_id="msg_same")
    first = await client.post(URL, data=body, headers=headers)
    # A replay with the same id but a later (re-signed) body must not apply again.
    changed = _user_event("user.updated", "user_once", first_name="Changed")
    body2, headers2 = signed(changed, msg_id="msg_same")
    second = await client.post(URL, data=body2, headers=headers2)
    assert first.status_code == second.status_code == 200
    assert (await first.get_json())["processed"] is True
    assert (await second.get_json())["processed"] is False
    users = hook_app.extensions["container"].identity.users
    assert (await users.get_by_clerk_id("user_once")).name == "Ada Lovelace"
    assert len(created) == 1


async def test_user_deleted_disables_revokes_keys_and_anonymises(hook_app):
    client = hook_app.test_client()
    body, headers = signed(_user_event("user.created", "user_gone"), msg_id="msg_c")
    await client.post(URL, data=body, headers=headers)
    auth = await auth_headers(hook_app, "user_gone")
    created = await client.post("/api/v1/api-keys", json={"name": "ci"}, headers=auth)
    key = (await created.get_json())["key"]
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})).status_code == 200

    deleted = {"type": "user.deleted", "data": {"id": "user_gone", "deleted": True}}
    body, headers = signed(deleted, msg_id="msg_d")
    assert (await client.post(URL, data=body, headers=headers)).status_code == 200
    user = await hook_app.extensions["container"].identity.users.get_by_clerk_id("user_gone")
    assert user.disabled and user.email is None and user.name is None and user.image_url is None
    by_key = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    by_jwt = await client.get("/api/v1/me", headers=auth)
    assert by_key.status_code == 401
    assert by_jwt.status_code == 403 and (await by_jwt.get_json())["code"] == "account_disabled"


async def test_webhook_without_configured_secret_is_refused(client):
    body, headers = signed(_user_event("user.created", "user_x"))
    response = await client.post(URL, data=body, headers=headers)
    assert response.status_code == 503
