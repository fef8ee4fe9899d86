"""Gift codes over HTTP: admin creation and listing, redemption once (even concurrently), 404/409/410."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from services.platform.clock import isoformat, utcnow
from tests.fixtures.credits import travel
from tests.fixtures.identity import auth_headers

CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}")


async def _create(app, client, **body):
    admin = await auth_headers(app, "gift_admin", role="ADMIN")
    response = await client.post("/api/v1/admin/gift-codes", json=body, headers=admin)
    assert response.status_code == 201, await response.get_data()
    return (await response.get_json())["codes"]


async def test_admins_create_random_grouped_codes_and_list_them_with_status(app, client):
    codes = await _create(app, client, tier="gift_999", count=5)
    assert len({c["code"] for c in codes}) == 5
    assert all(CODE.fullmatch(c["code"]) and c["status"] == "active" for c in codes)
    user = await auth_headers(app, "gift_lister")
    redeemed = await client.post("/api/v1/gift-codes/redeem", json={"code": codes[0]["code"]}, headers=user)
    assert redeemed.status_code == 200
    admin = await auth_headers(app, "gift_admin", role="ADMIN")
    page = await (await client.get("/api/v1/admin/gift-codes?limit=3", headers=admin)).get_json()
    rest = await (await client.get(f"/api/v1/admin/gift-codes?cursor={page['next_cursor']}",
                                   headers=admin)).get_json()
    listed = {c["code"]: c for c in page["items"] + rest["items"]}
    assert len(page["items"]) == 3 and rest["next_cursor"] is None and len(listed) == 5
    assert listed[codes[0]["code"]]["status"] == "redeemed"
    assert listed[codes[0]["code"]]["redeemed_by"].startswith("usr_")
    assert listed[codes[0]["code"]]["redeemed_at"] and listed[codes[1]["code"]]["redeemed_by"] is None


async def test_only_admins_create_or_list_codes(app, client):
    user = await auth_headers(app, "gift_plain")
    created = await client.post("/api/v1/admin/gift-codes", json={"credits": 5}, headers=user)
    assert created.status_code == 403
    assert (await client.get("/api/v1/admin/gift-codes", headers=user)).status_code == 403


async def test_bad_creation_requests_are_422(app, client):
    admin = await auth_headers(app, "gift_admin", role="ADMIN")
    for body in ({"tier": "gift_1", "count": 1}, {"count": 1}, {"tier": "gift_999", "credits": 5},
                 {"credits": 5, "count": 1001}):
        response = await client.post("/api/v1/admin/gift-codes", json=body, headers=admin)
        assert response.status_code == 422, body


async def test_redeeming_a_tier_code_is_case_insensitive_and_returns_the_credits(app, client):
    code = (await _create(app, client, tier="gift_1499"))[0]["code"]
    user = await auth_headers(app, "gift_user")
    typed = code.lower().replace("-", "")
    response = await client.post("/api/v1/gift-codes/redeem", json={"code": typed}, headers=user)
    body = await response.get_json()
    assert response.status_code == 200
    assert body["gift"]["tier"] == "gift_1499" and body["gift"]["remaining"] == 1499
    assert body["spendable"] == 25 + 1499
    ledger = (await (await client.get("/api/v1/credits/ledger", headers=user)).get_json())["items"]
    assert ledger[0]["kind"] == "gift_code" and ledger[0]["ref"] == code
    assert ledger[0]["sources"] == {"allowance": 0, "gift": 1499, "balance": 0}


async def test_a_credits_code_adds_to_the_balance(app, client):
    code = (await _create(app, client, credits=40))[0]["code"]
    user = await auth_headers(app, "gift_credits")
    response = await client.post("/api/v1/gift-codes/redeem", json={"code": code}, headers=user)
    body = await response.get_json()
    assert body["balance"] == 40 and body["gift"] is None


async def test_unknown_redeemed_and_expired_codes_answer_404_409_410(app, client):
    soon = isoformat(utcnow() + timedelta(hours=1))
    used = await _create(app, client, credits=1)
    expiring = await _create(app, client, credits=1, expires_at=soon)
    user = await auth_headers(app, "gift_errors")
    other = await auth_headers(app, "gift_errors_2")
    assert (await client.post("/api/v1/gift-codes/redeem", json={"code": used[0]["code"]},
                              headers=user)).status_code == 200
    again = await client.post("/api/v1/gift-codes/redeem", json={"code": used[0]["code"]}, headers=other)
    assert again.status_code == 409 and (await again.get_json())["code"] == "conflict"
    unknown = await client.post("/api/v1/gift-codes/redeem", json={"code": "AAAA-BBBB-CCCC-DDDD"},
                                headers=user)
    assert unknown.status_code == 404
    assert (await client.post("/api/v1/gift-codes/redeem", json={"code": "nonsense"},
                              headers=user)).status_code == 404
    travel(timedelta(hours=2))
    gone = await client.post("/api/v1/gift-codes/redeem", json={"code": expiring[0]["code"]}, headers=user)
    assert gone.status_code == 410 and (await gone.get_json())["code"] == "gone"


async def test_50_concurrent_redemptions_of_one_code_succeed_exactly_once(app, client, container):
    code = (await _create(app, client, credits=100))[0]["code"]
    users = [await auth_headers(app, f"gift_racer_{i}") for i in range(50)]
    for headers in users:  # create the users first, so only the redemption races
        assert (await client.get("/api/v1/credits", headers=headers)).status_code == 200
    responses = await asyncio.gather(*[
        client.post("/api/v1/gift-codes/redeem", json={"code": code}, headers=h) for h in users])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 49
    balances = [(await (await client.get("/api/v1/credits", headers=h)).get_json())["balance"] for h in users]
    assert sorted(balances) == [0] * 49 + [100]


async def test_a_code_claimed_but_not_credited_is_finished_by_reconcile(app, client, container):
    code = (await _create(app, client, credits=30))[0]["code"]
    stored = await container.credits.gift_codes._codes.get(code)
    # then "crash"
    await container.credits.gift_codes._codes.claim(stored, user_id="usr_crashed", now=utcnow())
    assert await container.credits.gift_codes.reconcile(older_than_s=3600) == 0
    assert await container.credits.gift_codes.reconcile(older_than_s=0) == 1
    assert await container.credits.gift_codes.reconcile(older_than_s=0) == 0
    assert (await container.credits.service.summary("usr_crashed", plan="free"))["balance"] == 30
