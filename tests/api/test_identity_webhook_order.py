"""Clerk webhooks out of order (issue 19): `user.deleted` is terminal; grants carry the request ID."""

from __future__ import annotations

import pytest

from app import create_app
from tests.api.test_identity_webhooks import SECRET, URL, _user_event, signed
from tests.conftest import make_settings


@pytest.fixture
async def granting_hook_app(servers, tmp_path):
    settings = make_settings(servers, tmp_path, clerk_webhook_secret=SECRET, signup_credits=50)
    application = create_app(settings)
    async with application.test_app():
        yield application
        await application.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)


async def _deliver(app, kind: str, clerk_id: str, msg_id: str, **headers) -> int:
    body, signed_headers = signed(_user_event(kind, clerk_id), msg_id=msg_id)
    response = await app.test_client().post(URL, data=body, headers={**signed_headers, **headers})
    return response.status_code


async def test_a_late_user_updated_after_user_deleted_writes_no_personal_data(granting_hook_app):
    app, users = granting_hook_app, granting_hook_app.extensions["container"].identity.users
    assert await _deliver(app, "user.created", "user_gone", "msg_c1") == 200
    assert (await users.get_by_clerk_id("user_gone")).email == "ada@example.com"
    assert await _deliver(app, "user.deleted", "user_gone", "msg_d1") == 200
    assert await _deliver(app, "user.updated", "user_gone", "msg_u1") == 200  # delivered late
    assert await _deliver(app, "user.created", "user_gone", "msg_c2") == 200  # a retried old delivery
    user = await users.get_by_clerk_id("user_gone")
    assert (user.email, user.name, user.image_url) == (None, None, None)
    assert user.disabled and user.deleted
    raw = await app.extensions["container"].platform.database.db["users"].find_one({"clerk_id": "user_gone"})
    assert "ada@example.com" not in str(raw) and "Lovelace" not in str(raw)


async def test_user_deleted_before_user_created_leaves_a_tombstone_without_grant(granting_hook_app):
    app, container = granting_hook_app, granting_hook_app.extensions["container"]
    assert await _deliver(app, "user.deleted", "user_never", "msg_d2") == 200
    assert await _deliver(app, "user.created", "user_never", "msg_c3") == 200
    user = await container.identity.users.get_by_clerk_id("user_never")
    assert user.deleted and user.disabled and user.email is None
    entries, _ = await container.credits.service.ledger(user.id, limit=10)
    assert entries == []  # no signup grant for a user deleted before Muse saw them
    users = container.platform.database.db["users"]
    assert await users.count_documents({}) == 1  # one tombstone, under the Clerk ID's digest only
    assert await users.count_documents({"clerk_id": "user_never"}) == 0


async def test_the_webhooks_signup_grant_carries_the_webhooks_request_id(granting_hook_app):
    app, container = granting_hook_app, granting_hook_app.extensions["container"]
    headers = {"X-Request-ID": "clerk-hook-42"}
    assert await _deliver(app, "user.created", "user_new", "msg_c4", **headers) == 200
    user = await container.identity.users.get_by_clerk_id("user_new")
    entries, _ = await container.credits.service.ledger(user.id, limit=10)
    assert [(e.kind, e.delta, e.request_id) for e in entries] == [("grant", 50, "clerk-hook-42")]
