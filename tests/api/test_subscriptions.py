"""Subscriptions: create at PayPal, events switch plan and role, cancel."""

from __future__ import annotations

from tests.api.test_payments import _post, _user
from tests.fakes.paypal import sale_completed_event, subscription_event
from tests.fixtures.identity import auth_headers


def _ev(kind: str, sub: dict, status: str) -> dict:
    return subscription_event(f"BILLING.SUBSCRIPTION.{kind}", sub, status=status)


async def _send(pay_client, fake_paypal, event):
    response = await _post(pay_client, fake_paypal, event)
    assert response.status_code == 200, await response.get_data(as_text=True)


async def _subscribe(pay_client, headers, plan="starter"):
    response = await pay_client.post("/api/v1/subscriptions", json={"plan": plan}, headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def _role_plan(pay_app, user_id):
    user = await pay_app.extensions["container"].identity.users.get(user_id)
    return user.role.name, user.plan


async def test_subscribe_creates_a_paypal_subscription_with_the_mapped_plan(pay_app, pay_client, fake_paypal):
    headers, _ = await _user(pay_app)
    body = await _subscribe(pay_client, headers)
    assert body["subscription_id"].startswith("sub_") and body["approve_url"]
    assert body["status"] == "APPROVAL_PENDING"
    sent = next(r for r in fake_paypal.requests if r["kind"] == "create_subscription")
    assert sent["body"]["plan_id"] == "P-STARTER" and sent["body"]["custom_id"] == body["subscription_id"]
    assert sent["headers"]["paypal-request-id"]
    current = await (await pay_client.get("/api/v1/subscriptions/current", headers=headers)).get_json()
    assert current["subscription_id"] == body["subscription_id"]


async def test_free_or_unknown_plans_cannot_be_subscribed(pay_app, pay_client):
    headers, _ = await _user(pay_app)
    for plan, status in (("free", 422), ("gold", 404)):
        response = await pay_client.post("/api/v1/subscriptions", json={"plan": plan}, headers=headers)
        assert response.status_code == status
    none = await pay_client.get("/api/v1/subscriptions/current", headers=headers)
    assert none.status_code == 200 and await none.get_json() is None


async def test_activated_gives_starter_and_subscriber_expired_takes_them_back(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    body = await _subscribe(pay_client, headers)
    fake_paypal.activate_subscription(body["paypal_subscription_id"])
    sub = fake_paypal.subscriptions[body["paypal_subscription_id"]]
    await _send(pay_client, fake_paypal, _ev("ACTIVATED", sub, "ACTIVE"))
    assert await _role_plan(pay_app, user_id) == ("SUBSCRIBER", "starter")
    await _send(pay_client, fake_paypal, sale_completed_event(sub["id"]))
    assert await _role_plan(pay_app, user_id) == ("SUBSCRIBER", "starter")
    await _send(pay_client, fake_paypal, _ev("EXPIRED", sub, "EXPIRED"))
    assert await _role_plan(pay_app, user_id) == ("USER", "free")
    # a late ACTIVATED for an expired subscription does not revive it
    await _send(pay_client, fake_paypal, _ev("ACTIVATED", sub, "ACTIVE"))
    assert await _role_plan(pay_app, user_id) == ("USER", "free")


async def test_suspended_turns_the_plan_off_and_reactivation_on(pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    body = await _subscribe(pay_client, headers)
    sub = fake_paypal.subscriptions[body["paypal_subscription_id"]]
    await _send(pay_client, fake_paypal, _ev("ACTIVATED", sub, "ACTIVE"))
    await _send(pay_client, fake_paypal, _ev("SUSPENDED", sub, "SUSPENDED"))
    assert await _role_plan(pay_app, user_id) == ("USER", "free")
    await _send(pay_client, fake_paypal, _ev("ACTIVATED", sub, "ACTIVE"))
    assert await _role_plan(pay_app, user_id) == ("SUBSCRIBER", "starter")


async def test_an_admin_stays_admin_when_the_subscription_expires(pay_app, pay_client, fake_paypal):
    headers = await auth_headers(pay_app, "boss", role="ADMIN")
    user_id = (await pay_app.extensions["container"].identity.users.get_by_clerk_id("boss")).id
    body = await _subscribe(pay_client, headers, "enterprise")
    sub = fake_paypal.subscriptions[body["paypal_subscription_id"]]
    await _send(pay_client, fake_paypal, _ev("ACTIVATED", sub, "ACTIVE"))
    assert await _role_plan(pay_app, user_id) == ("ADMIN", "enterprise")
    await _send(pay_client, fake_paypal, _ev("EXPIRED", sub, "EXPIRED"))
    assert await _role_plan(pay_app, user_id) == ("ADMIN", "free")


async def test_delete_current_cancels_at_paypal_and_ends_the_plan(pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    body = await _subscribe(pay_client, headers)
    fake_paypal.activate_subscription(body["paypal_subscription_id"])
    sub = fake_paypal.subscriptions[body["paypal_subscription_id"]]
    await _send(pay_client, fake_paypal, _ev("ACTIVATED", sub, "ACTIVE"))
    again = await pay_client.post("/api/v1/subscriptions", json={"plan": "enterprise"}, headers=headers)
    assert again.status_code == 409
    response = await pay_client.delete("/api/v1/subscriptions/current", headers=headers)
    assert response.status_code == 200
    assert (await response.get_json())["status"] == "CANCELLED"
    assert fake_paypal.subscriptions[sub["id"]]["status"] == "CANCELLED"
    assert await _role_plan(pay_app, user_id) == ("USER", "free")
    await _send(pay_client, fake_paypal, _ev("CANCELLED", sub, "CANCELLED"))
    none = await pay_client.get("/api/v1/subscriptions/current", headers=headers)
    assert none.status_code == 200 and await none.get_json() is None
