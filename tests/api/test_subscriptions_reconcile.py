"""Issue 27 item 7: the subscription reconcile (cron `reconcile_subscriptions`, CLI `python -m app
subscriptions reconcile`) brings local subscriptions, plans and roles in line with PayPal and Stripe
when their webhooks never arrived, against the wire fakes."""

from __future__ import annotations

from app.jobs import reconcile_subscriptions
from app.wiring.jobs import arq_context
from services.platform.principal import Role
from tests.api.test_payments import _user as _paypal_user
from tests.api.test_stripe_payments import _user as _stripe_user


async def _role_plan(app, user_id):
    user = await app.extensions["container"].identity.users.get(user_id)
    return user.role.name, user.plan


async def _reconcile(app) -> dict:
    return await reconcile_subscriptions({**arq_context(app.extensions["container"]), "job_id": "t"})


async def _subscribe(client, headers, **body):
    response = await client.post("/api/v1/subscriptions", json={"plan": "starter", **body}, headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def test_stripe_a_paid_then_deleted_subscription_whose_webhooks_were_lost(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _stripe_user(stripe_app)
    body = await _subscribe(stripe_client, headers, provider="stripe")
    assert (await _reconcile(stripe_app))["unchanged"] == 1  # not paid yet: nothing to do
    fake_stripe.pay(fake_stripe.session_for(body["subscription_id"])["id"])
    fake_stripe.take_events()  # the webhooks are lost
    assert await _role_plan(stripe_app, user_id) == ("USER", "free")

    counts = await _reconcile(stripe_app)
    assert counts["changed"] == 1 and counts["errors"] == 0
    assert await _role_plan(stripe_app, user_id) == ("SUBSCRIBER", "starter")
    current = await (await stripe_client.get("/api/v1/subscriptions/current", headers=headers)).get_json()
    sub_id = next(iter(fake_stripe.subscriptions))
    assert current["status"] == "ACTIVE"
    assert (await _reconcile(stripe_app))["unchanged"] == 1  # in line now: no change, no write

    fake_stripe.delete_subscription(sub_id)
    fake_stripe.take_events()
    assert (await _reconcile(stripe_app))["changed"] == 1
    assert await _role_plan(stripe_app, user_id) == ("USER", "free")
    ended = await stripe_app.extensions["container"].payments.subscriptions.find_current(user_id)
    assert ended is None
    assert (await _reconcile(stripe_app))["checked"] == 0  # a cancelled subscription is final


async def test_stripe_an_active_subscription_whose_user_lost_the_plan_is_realigned(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _stripe_user(stripe_app)
    body = await _subscribe(stripe_client, headers, provider="stripe")
    fake_stripe.pay(fake_stripe.session_for(body["subscription_id"])["id"])
    await _reconcile(stripe_app)
    users = stripe_app.extensions["container"].identity.users
    await users.set_plan(user_id, "free", role=Role.USER)  # e.g. a mistaken manual change
    counts = await _reconcile(stripe_app)
    assert counts["roles"] == 1 and await _role_plan(stripe_app, user_id) == ("SUBSCRIBER", "starter")


async def test_paypal_activation_and_cancellation_without_webhooks(pay_app, pay_client, fake_paypal):
    headers, user_id = await _paypal_user(pay_app)
    body = await _subscribe(pay_client, headers)
    paypal_id = body["paypal_subscription_id"]
    fake_paypal.activate_subscription(paypal_id)  # approved at PayPal; no webhook reaches Muse
    counts = await _reconcile(pay_app)
    assert counts["changed"] == 1 and await _role_plan(pay_app, user_id) == ("SUBSCRIBER", "starter")

    with fake_paypal.lock:
        fake_paypal.subscriptions[paypal_id]["status"] = "CANCELLED"  # cancelled at PayPal's site
    assert (await _reconcile(pay_app))["changed"] == 1
    assert await _role_plan(pay_app, user_id) == ("USER", "free")


async def test_a_subscription_its_processor_does_not_know_expires(pay_app, pay_client, fake_paypal):
    headers, user_id = await _paypal_user(pay_app)
    body = await _subscribe(pay_client, headers)
    with fake_paypal.lock:
        del fake_paypal.subscriptions[body["paypal_subscription_id"]]
    assert (await _reconcile(pay_app))["changed"] == 1
    subs = pay_app.extensions["container"].payments.subscriptions
    assert await subs.find_current(user_id) is None
