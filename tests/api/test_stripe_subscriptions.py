"""Subscriptions through Stripe Checkout (`mode=subscription`): the plan and SUBSCRIBER role come with
the paid checkout, whatever order Stripe's events arrive in; deletion returns to free (an ADMIN stays
ADMIN); cancel at Stripe."""

from __future__ import annotations

from tests.api.test_stripe_payments import _deliver, _user
from tests.fixtures.identity import auth_headers


async def _subscribe(client, headers, plan="starter"):
    response = await client.post("/api/v1/subscriptions", json={"plan": plan, "provider": "stripe"},
                                 headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def _role_plan(app, user_id):
    user = await app.extensions["container"].identity.users.get(user_id)
    return user.role.name, user.plan


async def test_subscribe_opens_a_subscription_checkout_with_the_mapped_price(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _subscribe(stripe_client, headers)
    assert body["provider"] == "stripe" and body["status"] == "APPROVAL_PENDING"
    session = fake_stripe.session_for(body["subscription_id"])
    assert body["checkout_url"] == session["url"] and body["paypal_subscription_id"] is None
    sent = next(r for r in fake_stripe.requests if r["kind"] == "create_session")["params"]
    assert sent["mode"] == "subscription" and sent["line_items"][0]["price"] == "price_starter"
    assert sent["subscription_data"]["metadata"]["subscription_id"] == body["subscription_id"]
    assert session["customer"].startswith("cus_")
    assert await _role_plan(stripe_app, user_id) == ("USER", "free")


async def test_a_paid_checkout_activates_subscriber_and_plan_in_any_event_order(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _subscribe(stripe_client, headers, "enterprise")
    fake_stripe.pay(fake_stripe.session_for(body["subscription_id"])["id"])
    await _deliver(stripe_client, fake_stripe, twice=True, reverse=True)  # invoice.paid first
    assert await _role_plan(stripe_app, user_id) == ("SUBSCRIBER", "enterprise")
    current = await (await stripe_client.get("/api/v1/subscriptions/current", headers=headers)).get_json()
    assert current["status"] == "ACTIVE" and current["provider"] == "stripe"
    assert current["current_period_end"] is not None
    stored = await stripe_app.extensions["container"].payments.subscriptions.current(user_id)
    assert stored.external_id.startswith("sub_")


async def test_deletion_returns_to_free_and_a_late_update_does_not_revive_it(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _subscribe(stripe_client, headers)
    fake_stripe.pay(fake_stripe.session_for(body["subscription_id"])["id"])
    await _deliver(stripe_client, fake_stripe)
    sub_id = fake_stripe.session_for(body["subscription_id"])["subscription"]
    fake_stripe.update_subscription(sub_id, "active")  # sent before the deletion, arrives after it
    fake_stripe.delete_subscription(sub_id)
    await _deliver(stripe_client, fake_stripe, reverse=True)
    assert await _role_plan(stripe_app, user_id) == ("USER", "free")
    fake_stripe.renew(sub_id)  # a stray invoice.paid after the end
    await _deliver(stripe_client, fake_stripe)
    assert await _role_plan(stripe_app, user_id) == ("USER", "free")


async def test_past_due_suspends_and_a_renewal_restores(stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _subscribe(stripe_client, headers)
    fake_stripe.pay(fake_stripe.session_for(body["subscription_id"])["id"])
    await _deliver(stripe_client, fake_stripe)
    sub_id = fake_stripe.session_for(body["subscription_id"])["subscription"]
    fake_stripe.update_subscription(sub_id, "past_due")
    await _deliver(stripe_client, fake_stripe)
    assert await _role_plan(stripe_app, user_id) == ("USER", "free")
    fake_stripe.subscriptions[sub_id]["status"] = "active"
    fake_stripe.renew(sub_id)
    await _deliver(stripe_client, fake_stripe)
    assert await _role_plan(stripe_app, user_id) == ("SUBSCRIBER", "starter")


async def test_an_admin_stays_admin_when_the_subscription_is_deleted(stripe_app, stripe_client, fake_stripe):
    headers = await auth_headers(stripe_app, "boss", role="ADMIN")
    user_id = (await stripe_app.extensions["container"].identity.users.get_by_clerk_id("boss")).id
    body = await _subscribe(stripe_client, headers, "enterprise")
    fake_stripe.pay(fake_stripe.session_for(body["subscription_id"])["id"])
    await _deliver(stripe_client, fake_stripe)
    assert await _role_plan(stripe_app, user_id) == ("ADMIN", "enterprise")
    fake_stripe.delete_subscription(fake_stripe.session_for(body["subscription_id"])["subscription"])
    await _deliver(stripe_client, fake_stripe)
    assert await _role_plan(stripe_app, user_id) == ("ADMIN", "free")


async def test_delete_current_cancels_at_stripe_and_ends_the_plan(stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _subscribe(stripe_client, headers)
    fake_stripe.pay(fake_stripe.session_for(body["subscription_id"])["id"])
    await _deliver(stripe_client, fake_stripe)
    response = await stripe_client.delete("/api/v1/subscriptions/current", headers=headers)
    assert response.status_code == 200 and (await response.get_json())["status"] == "CANCELLED"
    sub_id = fake_stripe.session_for(body["subscription_id"])["subscription"]
    assert fake_stripe.subscriptions[sub_id]["status"] == "canceled"
    assert await _role_plan(stripe_app, user_id) == ("USER", "free")
    await _deliver(stripe_client, fake_stripe)  # Stripe's own customer.subscription.deleted: no change
    assert await _role_plan(stripe_app, user_id) == ("USER", "free")


async def test_cancelling_an_unpaid_subscription_checkout_expires_it(stripe_app, stripe_client, fake_stripe):
    headers, _ = await _user(stripe_app)
    body = await _subscribe(stripe_client, headers)
    response = await stripe_client.delete("/api/v1/subscriptions/current", headers=headers)
    assert response.status_code == 200
    assert fake_stripe.session_for(body["subscription_id"])["status"] == "expired"
