"""Budget alerts (contract §19): `PUT/GET /api/v1/me/alerts` and `/api/v1/admin/alerts`; crossing a
threshold sends exactly one email per period through the mail port (the development outbox here),
also when the charges that cross it are concurrent; the answers say `crossed` (the web banner)."""

from __future__ import annotations

import asyncio
import uuid

from tests.fixtures.identity import auth_headers


def _chat(text: str | None = None) -> dict:
    return {"messages": [{"role": "user", "content": text or f"q {uuid.uuid4().hex}"}]}


async def _mails_to(container, email: str) -> list:
    return [m for m in await container.identity.outbox.list(limit=200) if m.to == email]


async def test_a_users_monthly_alert_mails_once_even_under_concurrent_charges(app, client, container):
    email = f"budget_{uuid.uuid4().hex[:6]}@example.com"
    headers = await auth_headers(app, email.split("@")[0], email=email)
    first = await (await client.get("/api/v1/me/alerts", headers=headers)).get_json()
    assert first["monthly_credits"] is None and first["crossed"] is False
    put = await client.put("/api/v1/me/alerts", json={"monthly_credits": 3}, headers=headers)
    body = await put.get_json()
    assert put.status_code == 200, body
    assert body["monthly_credits"] == 3 and body["crossed"] is False and body["spent_this_month"] == 0

    answers = await asyncio.gather(*(client.post("/api/v1/chat", json=_chat(), headers=headers)
                                     for _ in range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    await container.credits.service.settle()  # the batch that rolls the charges up (and checks alerts)
    mails = await _mails_to(container, email)
    assert len(mails) == 1 and "credits this month" in mails[0].subject and "3 credits" in mails[0].text
    mine = await (await client.get("/api/v1/me/alerts", headers=headers)).get_json()
    assert mine["crossed"] is True and mine["spent_this_month"] == 8 and mine["notified_at"]

    # the same checks racing each other: the claim lets one through
    user = await container.identity.users.get_by_clerk_id(email.split("@")[0])
    await asyncio.gather(*(container.admin.alerts.usage_moved({user.id}, {}) for _ in range(20)))
    assert (await client.post("/api/v1/chat", json=_chat(), headers=headers)).status_code == 200
    await container.credits.service.settle()
    assert len(await _mails_to(container, email)) == 1  # once a month

    # a new threshold may notify again this month; null clears it (no banner)
    again = await (await client.put("/api/v1/me/alerts", json={"monthly_credits": 9},
                                    headers=headers)).get_json()
    assert again["crossed"] is True and len(await _mails_to(container, email)) == 2
    cleared = await (await client.put("/api/v1/me/alerts", json={"monthly_credits": None},
                                      headers=headers)).get_json()
    assert cleared["monthly_credits"] is None and cleared["crossed"] is False


async def test_bad_alert_bodies_are_422_and_admin_alerts_need_admin(app, client):
    headers = await auth_headers(app, "budget_bad")
    for body in ({"monthly_credits": 0}, {"monthly_credits": 2_000_000_000}, {"monthly_credits": "5"},
                 {"monthly_credits": True}, {"monthly_credits": 5, "colour": "red"}, {}):
        assert (await client.put("/api/v1/me/alerts", json=body, headers=headers)).status_code == 422, body
    assert (await client.get("/api/v1/admin/alerts", headers=headers)).status_code == 403
    assert (await client.put("/api/v1/admin/alerts", json={"daily_provider_cost_usd": 1},
                             headers=headers)).status_code == 403
    admin = await auth_headers(app, "budget_admin_bad", role="ADMIN")
    for body in ({"daily_provider_cost_usd": -1}, {"daily_provider_cost_usd": 1e12},
                 {"daily_provider_cost_usd": "1"}, {"usd": 1}):
        assert (await client.put("/api/v1/admin/alerts", json=body, headers=admin)).status_code == 422, body


async def test_the_service_daily_cost_alert_mails_the_admin_once(app, client, container):
    email = f"ops_{uuid.uuid4().hex[:6]}@example.com"
    admin = await auth_headers(app, email.split("@")[0], role="ADMIN", email=email)
    # the local provider's model at $1 per output token (the estimate: about one a word)
    prices = {"provider_prices": {"local-echo": {"output_per_1m": 1_000_000}}}
    assert (await client.patch("/api/v1/admin/settings", json=prices, headers=admin)).status_code == 200
    container.platform.live_settings.invalidate()
    put = await client.put("/api/v1/admin/alerts", json={"daily_provider_cost_usd": 5}, headers=admin)
    body = await put.get_json()
    assert put.status_code == 200 and body["daily_provider_cost_usd"] == 5 and body["crossed"] is False, body

    user = await auth_headers(app, f"spender_{uuid.uuid4().hex[:6]}")
    answers = await asyncio.gather(*(client.post("/api/v1/chat", json=_chat(), headers=user)
                                     for _ in range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    state = await (await client.get("/api/v1/admin/alerts", headers=admin)).get_json()
    assert state["crossed"] is True and state["cost_today_usd"] >= 5 and state["notified_at"]
    mails = await _mails_to(container, email)
    assert len(mails) == 1 and "provider cost" in mails[0].subject
    assert (await client.post("/api/v1/chat", json=_chat(), headers=user)).status_code == 200
    assert len(await _mails_to(container, email)) == 1  # once a day
    await client.put("/api/v1/admin/alerts", json={"daily_provider_cost_usd": None}, headers=admin)
