"""GET /api/v1/credits and /api/v1/credits/ledger over HTTP, and the signup grant on user creation."""

from __future__ import annotations

from tests.fixtures.credits import fund
from tests.fixtures.identity import auth_headers


async def _user_id(client, headers) -> str:
    return (await (await client.get("/api/v1/me", headers=headers)).get_json())["id"]


async def test_credits_need_a_signed_in_caller(client):
    assert (await client.get("/api/v1/credits")).status_code == 401
    assert (await client.get("/api/v1/credits/ledger")).status_code == 401


async def test_credits_object_has_the_contract_shape(app, client, container):
    headers = await auth_headers(app, "cred_shape")
    user_id = await _user_id(client, headers)
    await fund(container.credits.service, user_id, 120)
    await container.credits.service.charge(user_id, 3, plan="free", kind="chat", ref="msg_x", request_id="rq")
    body = await (await client.get("/api/v1/credits", headers=headers)).get_json()
    assert body["allowance"]["plan"] == "free" and body["allowance"]["limit"] == 25
    assert body["allowance"]["used"] == 3 and body["allowance"]["remaining"] == 22
    assert body["allowance"]["resets_at"].endswith("T00:00:00Z")
    assert body["gift"] is None and body["balance"] == 120 and body["spendable"] == 142


async def test_ledger_pages_newest_first_with_a_cursor(app, client, container):
    headers = await auth_headers(app, "cred_ledger")
    user_id = await _user_id(client, headers)
    await fund(container.credits.service, user_id, 5)
    for i in range(4):
        await container.credits.service.charge(user_id, 1, plan="free", kind="chat", ref=f"msg_{i}",
                                               request_id=f"rq{i}")
    first = await (await client.get("/api/v1/credits/ledger?limit=3", headers=headers)).get_json()
    assert [e["ref"] for e in first["items"]] == ["msg_3", "msg_2", "msg_1"]
    assert first["items"][0]["kind"] == "charge" and first["items"][0]["request_id"] == "rq3"
    assert first["items"][0]["sources"] == {"allowance": -1, "gift": 0, "balance": 0}
    assert first["items"][0]["delta"] == -1 and first["items"][0]["balance_after"] == 5
    second = await (await client.get(f"/api/v1/credits/ledger?limit=3&cursor={first['next_cursor']}",
                                     headers=headers)).get_json()
    assert [e["kind"] for e in second["items"]] == ["charge", "grant"] and second["next_cursor"] is None
    bad = await client.get("/api/v1/credits/ledger?limit=101", headers=headers)
    assert bad.status_code == 422


async def test_a_new_user_gets_the_signup_grant_once(app, client, container):
    await container.platform.live_settings.update({"signup_credits": 7}, admin_id="usr_admin",
                                                  request_id=None)
    live = await container.platform.live_settings.current()
    assert live.signup_credits == 7
    headers = await auth_headers(app, "cred_signup")
    user_id = await _user_id(client, headers)
    await _user_id(client, headers)
    body = await (await client.get("/api/v1/credits", headers=headers)).get_json()
    assert body["balance"] == live.signup_credits
    entries = (await (await client.get("/api/v1/credits/ledger", headers=headers)).get_json())["items"]
    grants = [e for e in entries if e["kind"] == "grant"]
    assert len(grants) == 1 and grants[0]["ref"] == f"signup:{user_id}" and grants[0]["delta"] == 7
