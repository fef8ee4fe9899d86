"""Account deletion (contract §20, issue 27 item 4): `DELETE /api/v1/me` and
`DELETE /api/v1/admin/users/{id}`, on two app instances (as two server processes) sharing MongoDB
and Redis, with Clerk's Backend API as its wire fake (the real SDK deletes the user there)."""

from __future__ import annotations

from tests.conftest import app_instances, make_settings
from tests.fakes.clerk import FakeClerkApi, clerk_user
from tests.fixtures.accounts import local_settings_for
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import media_files, run_jobs

LOCAL = {"chat_providers": ["local"], "image_providers": ["local"], "video_providers": ["local"]}
PASSWORD = "plum tree at dusk"


def _clerk_settings(servers, tmp_path, fake: FakeClerkApi):
    return make_settings(servers, tmp_path, clerk_secret_key=fake.secret, clerk_api_url=fake.url, **LOCAL)


async def _use_everything(app, headers) -> dict:
    """A conversation, a stored /v1 response, a finished image with its files, a share link and an API key."""
    client, container = app.test_client(), app.extensions["container"]
    chat = await client.post("/api/v1/chat", headers=headers,
                             json={"messages": [{"role": "user", "content": "hi"}]})
    assert chat.status_code == 200, await chat.get_data()
    response = await client.post("/v1/responses", headers=headers, json={"model": "default", "input": "hi"})
    assert response.status_code == 200, await response.get_data()
    image = await client.post("/api/v1/images", headers=headers, json={"prompt": "a red fox"})
    assert image.status_code == 202
    image_id = (await image.get_json())["id"]
    await run_jobs(container)
    share = await client.post(f"/api/v1/images/{image_id}/share", headers=headers)
    assert share.status_code in (200, 201)
    key = await client.post("/api/v1/api-keys", headers=headers, json={"name": "laptop"})
    assert key.status_code == 201
    return {"conversation": (await chat.get_json())["conversation_id"], "image": image_id,
            "share": (await share.get_json())["token"], "key": (await key.get_json())["key"]}


async def test_delete_me_deletes_at_clerk_revokes_everywhere_removes_files_and_keeps_the_ledger(
        servers, tmp_path):
    users = [clerk_user("user_gone", email="gone@example.com"),
             clerk_user("user_back", email="gone@example.com")]
    with FakeClerkApi({}, secret="sk_test_erase", users=users) as fake:
        async with app_instances(_clerk_settings(servers, tmp_path, fake), 2) as (one, two):
            headers = await auth_headers(one, "user_gone", email="gone@example.com")
            made = await _use_everything(one, headers)
            container = one.extensions["container"]
            user = await container.identity.users.get_by_clerk_id("user_gone")
            assert media_files(container)  # the image's files are stored
            key_headers = {"Authorization": f"Bearer {made['key']}"}
            for creds in (headers, key_headers):  # the second process has them cached
                assert (await two.test_client().get("/api/v1/me", headers=creds)).status_code == 200
            ledger_before, _ = await container.credits.service.ledger(user.id, limit=100)

            answer = await one.test_client().delete("/api/v1/me", headers=headers)

            assert answer.status_code == 202, await answer.get_data()
            body = await answer.get_json()
            assert body["user_id"] == user.id and body["status"] == "deleted"
            assert body["deleted"] == {"api_keys": 1, "sessions": 0, "conversations": 1, "media": 1,
                                       "shares": 1, "responses": 1, "subscriptions": 0}
            assert "DELETE /v1/users/user_gone" in fake.paths and "user_gone" not in fake.users
            for app in (one, two):  # the session token and the API key stop working in every process
                for creds in (headers, key_headers):
                    answer = await app.test_client().get("/api/v1/me", headers=creds)
                    assert answer.status_code in (401, 403)
            assert media_files(container) == []  # the stored files are gone
            assert (await two.test_client().get(f"/s/{made['share']}")).status_code == 404
            gone = await container.identity.users.get(user.id)
            assert gone.deleted and gone.disabled
            assert (gone.email, gone.name, gone.image_url) == (None, None, None)
            db = container.platform.database.db
            assert await db["conversations"].count_documents({"owner_id": user.id}) == 0
            assert await db["responses"].count_documents({"user_id": user.id}) == 0
            assert await db["images"].count_documents({"user_id": user.id}) == 0
            assert await db["api_keys"].count_documents({"user_id": user.id, "revoked_at": None}) == 0
            ledger_after, _ = await container.credits.service.ledger(user.id, limit=100)
            assert [e.id for e in ledger_after] == [e.id for e in ledger_before] and ledger_after  # kept
            audit = await container.credits.service.audit(user.id)
            assert audit["ok"]

            # The same person signs up again (a new Clerk user, the same email): a new, empty Muse user.
            again = await auth_headers(one, "user_back", email="gone@example.com")
            me = await (await two.test_client().get("/api/v1/me", headers=again)).get_json()
            assert me["id"] != user.id and me["email"] == "gone@example.com"
            listed = await (await two.test_client().get("/api/v1/conversations", headers=again)).get_json()
            assert listed["items"] == []


async def test_a_clerk_refusal_changes_nothing(servers, tmp_path):
    with FakeClerkApi({}, secret="sk_test_refuse", users=[clerk_user("user_stays")]) as fake:
        async with app_instances(_clerk_settings(servers, tmp_path, fake), 1) as (app,):
            headers = await auth_headers(app, "user_stays")
            made = await _use_everything(app, headers)
            fake.fail_next(403)
            answer = await app.test_client().delete("/api/v1/me", headers=headers)
            assert answer.status_code == 502 and (await answer.get_json())["code"] == "provider_unavailable"
            client = app.test_client()
            assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
            assert (await client.get(f"/api/v1/images/{made['image']}", headers=headers)).status_code == 200
            assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {made['key']}"})
                    ).status_code == 200
            assert media_files(app.extensions["container"])


async def test_a_local_account_re_authenticates_then_its_sessions_end_everywhere_and_its_email_is_free(
        servers, tmp_path):
    settings = local_settings_for(servers, tmp_path, **LOCAL)
    async with app_instances(settings, 2) as (one, two):
        client = one.test_client()
        account = {"email": "ada@example.com", "password": PASSWORD}
        signed = await client.post("/api/v1/auth/register", json=account)
        assert signed.status_code == 201
        first = await signed.get_json()
        headers = {"Authorization": f"Bearer {first['access_token']}"}
        await _use_everything(one, headers)
        assert (await two.test_client().get("/api/v1/me", headers=headers)).status_code == 200

        for body, status in (({}, 401), ({"password": "not the password"}, 401),
                             ({"password": PASSWORD, "reason": "bye"}, 422)):
            refused = await client.delete("/api/v1/me", headers=headers, json=body)
            assert refused.status_code == status, body
        assert (await client.delete("/api/v1/me", headers=headers)).status_code == 401  # no body at all
        assert (await two.test_client().get("/api/v1/me", headers=headers)).status_code == 200  # unchanged

        deleted = await client.delete("/api/v1/me", headers=headers, json={"password": PASSWORD})
        assert deleted.status_code == 202
        assert (await deleted.get_json())["deleted"]["sessions"] == 1
        for app in (one, two):
            assert (await app.test_client().get("/api/v1/me", headers=headers)).status_code == 401
        login = await client.post("/api/v1/auth/login", json=account)
        assert login.status_code == 401
        again = await client.post("/api/v1/auth/register", json=account)
        assert again.status_code == 201
        assert (await again.get_json())["user"]["id"] != first["user"]["id"]


async def test_an_admin_deletes_a_user_and_a_user_cannot(servers, tmp_path):
    settings = make_settings(servers, tmp_path, **LOCAL)
    async with app_instances(settings, 1) as (app,):
        client = app.test_client()
        victim = await auth_headers(app, "user_victim")
        await _use_everything(app, victim)
        user = await app.extensions["container"].identity.users.get_by_clerk_id("user_victim")
        other = await auth_headers(app, "user_other")
        assert (await client.delete(f"/api/v1/admin/users/{user.id}", headers=other)).status_code == 403
        admin = await auth_headers(app, "user_admin", role="ADMIN")
        done = await client.delete(f"/api/v1/admin/users/{user.id}", headers=admin)
        assert done.status_code == 202 and (await done.get_json())["deleted"]["media"] == 1
        assert (await client.get("/api/v1/me", headers=victim)).status_code in (401, 403)
        assert (await client.delete(f"/api/v1/admin/users/{user.id}", headers=admin)).status_code == 404
        assert media_files(app.extensions["container"]) == []
