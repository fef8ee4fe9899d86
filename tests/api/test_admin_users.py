"""Admin user management over HTTP: search, detail, role/plan/disabled, credit adjustments, 403 for users."""

from __future__ import annotations

import re

from repositories.audit_log import AuditLogDocument
from repositories.ledger import LedgerEntryDocument
from tests.fixtures.identity import auth_headers


async def _admin(app) -> tuple[dict[str, str], str]:
    headers = await auth_headers(app, "root_admin", role="ADMIN", email="root@muse.test")
    user = await app.extensions["container"].identity.users.get_by_clerk_id("root_admin")
    return headers, user.id


async def _user(app, clerk_id: str, email: str, name: str | None = None):
    users = app.extensions["container"].identity.users
    return await users.ensure_clerk_user(clerk_id, email=email, name=name)


async def test_every_admin_route_refuses_a_user_and_an_anonymous_caller(app, client):
    headers = await auth_headers(app, "plain_user")
    subscriber = await auth_headers(app, "paying_user", role="SUBSCRIBER")
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/admin")]
    assert len(rules) >= 8  # settings ×2, audit-log, users ×4, stats (+ others' admin routes)
    walked = 0
    for rule in rules:
        path = re.sub(r"<[^>]+>", "usr_00000000000000000000x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for who in (headers, subscriber):
                response = await client.open(path, method=method, headers=who, json={})
                body = await response.get_json()
                assert response.status_code == 403, (method, path, response.status_code)
                assert body["code"] == "forbidden"
            anonymous = await client.open(path, method=method, json={})
            assert anonymous.status_code == 401, (method, path)
            walked += 1
    assert walked >= 8


async def test_search_finds_users_by_email_name_and_id_with_pagination(app, client):
    headers, admin_id = await _admin(app)
    alice = await _user(app, "clerk_alice", "alice@example.com", "Alice Liddell")
    bob = await _user(app, "clerk_bob", "bob@example.com", "Bob Builder")
    carol = await _user(app, "clerk_carol", "carol@other.org", "Carol Alison")

    async def ids(query: str) -> list[str]:
        body = await (await client.get(f"/api/v1/admin/users{query}", headers=headers)).get_json()
        return [item["id"] for item in body["items"]]

    assert await ids("?q=ALI") == [carol.id, alice.id]  # email/name, case-insensitive, newest first
    assert await ids("?q=example.com") == [bob.id, alice.id]
    assert await ids(f"?q={bob.id}") == [bob.id]
    assert await ids("?q=nobody-matches") == []

    first = await (await client.get("/api/v1/admin/users?limit=2", headers=headers)).get_json()
    assert [i["id"] for i in first["items"]] == [carol.id, bob.id]
    assert first["items"][0]["email"] == "carol@other.org" and first["items"][0]["role"] == "USER"
    second = await (await client.get(f"/api/v1/admin/users?limit=2&cursor={first['next_cursor']}",
                                     headers=headers)).get_json()
    assert [i["id"] for i in second["items"]] == [alice.id, admin_id]
    assert second["next_cursor"] is None
    bad = await client.get("/api/v1/admin/users?limit=500", headers=headers)
    assert bad.status_code == 422


async def test_detail_shows_plan_role_credits_ledger_and_generations(app, client, container):
    headers, _ = await _admin(app)
    user = await _user(app, "clerk_dora", "dora@example.com")
    receipt = await container.credits.service.charge(user.id, 2, plan="free", kind="chat", ref="msg_x",
                                                     request_id="r1")
    response = await client.get(f"/api/v1/admin/users/{user.id}", headers=headers)
    body = await response.get_json()
    assert response.status_code == 200
    assert body["id"] == user.id and body["plan"] == "free" and body["role"] == "USER"
    assert body["credits"]["allowance"]["used"] == 2 and body["credits"]["allowance"]["limit"] == 25
    assert [e["id"] for e in body["ledger"] if e["kind"] == "charge"] == [receipt.id]
    assert body["generations"] == []
    missing = await client.get("/api/v1/admin/users/usr_nope", headers=headers)
    assert missing.status_code == 404 and (await missing.get_json())["code"] == "not_found"


async def test_patch_changes_role_plan_and_disabled_and_is_audited(app, client):
    headers, admin_id = await _admin(app)
    user = await _user(app, "clerk_eve", "eve@example.com")
    user_headers = await auth_headers(app, "clerk_eve")
    response = await client.patch(f"/api/v1/admin/users/{user.id}", json={"plan": "starter"},
                                  headers={**headers, "X-Request-ID": "rq-p1"})
    body = await response.get_json()
    assert response.status_code == 200
    assert body["plan"] == "starter" and body["role"] == "SUBSCRIBER"  # the plan brings its role

    response = await client.patch(f"/api/v1/admin/users/{user.id}", headers=headers, json={"disabled": True})
    assert (await response.get_json())["disabled"] is True
    refused = await client.get("/api/v1/me", headers=user_headers)
    assert refused.status_code == 403 and (await refused.get_json())["code"] == "account_disabled"
    await client.patch(f"/api/v1/admin/users/{user.id}", headers=headers, json={"disabled": False})
    assert (await client.get("/api/v1/me", headers=user_headers)).status_code == 200

    response = await client.patch(f"/api/v1/admin/users/{user.id}", headers=headers, json={"role": "ADMIN"})
    assert (await response.get_json())["role"] == "ADMIN"
    response = await client.patch(f"/api/v1/admin/users/{user.id}", headers=headers, json={"plan": "free"})
    assert (await response.get_json())["role"] == "ADMIN"  # a plan change never demotes an ADMIN

    entries = await AuditLogDocument.find(AuditLogDocument.target == user.id).sort("+at").to_list()
    assert [(e.before, e.after) for e in entries] == [
        ({"plan": "free", "role": "USER"}, {"plan": "starter", "role": "SUBSCRIBER"}),
        ({"disabled": False}, {"disabled": True}),
        ({"disabled": True}, {"disabled": False}),
        ({"role": "SUBSCRIBER"}, {"role": "ADMIN"}),
        ({"plan": "starter"}, {"plan": "free"}),
    ]
    assert all(e.actor_id == admin_id and e.action == "user.update" for e in entries)
    assert entries[0].request_id == "rq-p1"


async def test_patch_refuses_unknown_plans_bad_roles_and_self_demotion(app, client):
    headers, admin_id = await _admin(app)
    user = await _user(app, "clerk_finn", "finn@example.com")
    for bad in ({"plan": "platinum"}, {"role": "OWNER"}, {"disabled": "yes"}, {"email": "x@y.z"}):
        response = await client.patch(f"/api/v1/admin/users/{user.id}", headers=headers, json=bad)
        assert response.status_code == 422, bad
    for own in ({"role": "USER"}, {"disabled": True}):
        response = await client.patch(f"/api/v1/admin/users/{admin_id}", headers=headers, json=own)
        assert response.status_code == 409, own
    missing = await client.patch("/api/v1/admin/users/usr_nope", headers=headers, json={"disabled": True})
    assert missing.status_code == 404
    assert await AuditLogDocument.count() == 0


async def test_credit_adjustment_lands_in_the_ledger_with_the_admin_id(app, client):
    headers, admin_id = await _admin(app)
    user = await _user(app, "clerk_gus", "gus@example.com")
    response = await client.post(f"/api/v1/admin/users/{user.id}/credits",
                                 headers={**headers, "X-Request-ID": "rq-adj"},
                                 json={"delta": 150, "reason": "support ticket 42"})
    body = await response.get_json()
    assert response.status_code == 200
    assert body["entry"]["kind"] == "admin_adjustment" and body["entry"]["delta"] == 150
    assert body["entry"]["admin_id"] == admin_id and body["entry"]["reason"] == "support ticket 42"
    assert body["credits"]["balance"] == 150

    taken = await client.post(f"/api/v1/admin/users/{user.id}/credits", headers=headers,
                              json={"delta": -50, "reason": "goodwill reversed"})
    assert (await taken.get_json())["credits"]["balance"] == 100
    too_much = await client.post(f"/api/v1/admin/users/{user.id}/credits", headers=headers,
                                 json={"delta": -101, "reason": "oops"})
    assert too_much.status_code == 409

    entries = await LedgerEntryDocument.find(LedgerEntryDocument.user_id == user.id,
                                             LedgerEntryDocument.kind == "admin_adjustment").to_list()
    assert sorted(e.delta for e in entries) == [-50, 150]
    assert all(e.admin_id == admin_id for e in entries)
    assert {e.request_id for e in entries if e.delta == 150} == {"rq-adj"}

    user_headers = await auth_headers(app, "clerk_gus")
    ledger = await (await client.get("/api/v1/credits/ledger", headers=user_headers)).get_json()
    adjustments = [e for e in ledger["items"] if e["kind"] == "admin_adjustment"]
    assert [e["delta"] for e in adjustments] == [-50, 150]

    for bad in ({"delta": 0, "reason": "x"}, {"delta": 5}, {"delta": 5, "reason": ""},
                {"delta": "5", "reason": "x"}):
        response = await client.post(f"/api/v1/admin/users/{user.id}/credits", headers=headers, json=bad)
        assert response.status_code == 422, bad
    missing = await client.post("/api/v1/admin/users/usr_nope/credits", headers=headers,
                                json={"delta": 5, "reason": "x"})
    assert missing.status_code == 404
    audit = await AuditLogDocument.find(AuditLogDocument.action == "credits.adjust").to_list()
    assert len(audit) == 2 and all(a.actor_id == admin_id and a.target == user.id for a in audit)
