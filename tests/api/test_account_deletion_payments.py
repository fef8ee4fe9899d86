"""Account deletion (contract §20, issue 27) and what outlives it: the user's subscriptions are
cancelled at PayPal and Stripe (their real SDK/HTTP clients against the wire fakes, which record the
cancel) before anything else changes, a processor outage refuses the deletion (nothing changed, a
retry finishes it), and the anonymised user keeps no email, name or sign-in subject."""

from __future__ import annotations

import pytest

from app import create_app
from tests.api.test_payments import _post
from tests.conftest import make_settings
from tests.fakes.paypal import FakePayPal, subscription_event
from tests.fakes.stripe import FakeStripe
from tests.fixtures.identity import auth_headers
from tests.fixtures.payments import paypal_overrides
from tests.fixtures.stripe_payments import stripe_overrides


@pytest.fixture
async def both(servers, tmp_path, fake_paypal: FakePayPal, fake_stripe: FakeStripe):
    """An app with both processors configured (PayPal preferred)."""
    settings = make_settings(servers, tmp_path, **{**stripe_overrides(fake_stripe),
                                                   **paypal_overrides(fake_paypal)})
    application = create_app(settings)
    async with application.test_app():
        yield application
        container = application.extensions["container"]
        await container.platform.database.client.drop_database(container.settings.mongodb_db)


async def _subscribe(client, headers, provider: str) -> dict:
    answer = await client.post("/api/v1/subscriptions", json={"plan": "starter", "provider": provider},
                               headers=headers)
    assert answer.status_code == 201, await answer.get_data(as_text=True)
    return await answer.get_json()


async def _paying_user(app, fake_paypal: FakePayPal, clerk_id: str) -> tuple[dict, str, dict, dict]:
    """A user with a pending Stripe subscription checkout and an ACTIVE PayPal subscription."""
    client = app.test_client()
    headers = await auth_headers(app, clerk_id, email=f"{clerk_id}@example.com")
    user = await app.extensions["container"].identity.users.get_by_clerk_id(clerk_id)
    stripe_sub = await _subscribe(client, headers, "stripe")  # opened, never paid
    paypal_sub = await _subscribe(client, headers, "paypal")
    fake_paypal.activate_subscription(paypal_sub["paypal_subscription_id"])
    remote = fake_paypal.subscriptions[paypal_sub["paypal_subscription_id"]]
    event = subscription_event("BILLING.SUBSCRIPTION.ACTIVATED", remote, status="ACTIVE")
    assert (await _post(client, fake_paypal, event)).status_code == 200
    assert (await app.extensions["container"].identity.users.get(user.id)).plan == "starter"
    return headers, user.id, stripe_sub, paypal_sub


async def _stored_statuses(app, user_id: str) -> list[str]:
    db = app.extensions["container"].platform.database.db
    return sorted([row["status"] async for row in db["subscriptions"].find({"user_id": user_id})])


async def test_deletion_cancels_every_live_subscription_at_both_processors(both, fake_paypal, fake_stripe):
    headers, user_id, stripe_sub, paypal_sub = await _paying_user(both, fake_paypal, "user_payer")

    answer = await both.test_client().delete("/api/v1/me", headers=headers)

    assert answer.status_code == 202, await answer.get_data(as_text=True)
    assert (await answer.get_json())["deleted"]["subscriptions"] == 2
    paypal_id = paypal_sub["paypal_subscription_id"]
    assert fake_paypal.subscriptions[paypal_id]["status"] == "CANCELLED"
    assert any(r["path"] == f"/v1/billing/subscriptions/{paypal_id}/cancel" for r in fake_paypal.requests)
    session = fake_stripe.session_for(stripe_sub["subscription_id"])
    assert any(r["kind"] == "expire_session" and session["id"] in r["path"] for r in fake_stripe.requests)
    assert session["status"] == "expired"  # the buyer can no longer start paying for it
    assert await _stored_statuses(both, user_id) == ["CANCELLED", "CANCELLED"]


async def test_a_processor_outage_refuses_the_deletion_and_a_retry_finishes_it(both, fake_paypal):
    headers, user_id, _, paypal_sub = await _paying_user(both, fake_paypal, "user_retry")
    client = both.test_client()
    fake_paypal.fail_next("cancel_subscription", 500, times=20)

    refused = await client.delete("/api/v1/me", headers=headers)

    assert refused.status_code in (502, 503), await refused.get_data(as_text=True)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200  # not deleted
    user = await both.extensions["container"].identity.users.get(user_id)
    assert not user.deleted and user.email == "user_retry@example.com"
    assert fake_paypal.subscriptions[paypal_sub["paypal_subscription_id"]]["status"] == "ACTIVE"
    assert "ACTIVE" in await _stored_statuses(both, user_id)  # still paying: so still an account

    fake_paypal.failures.clear()
    done = await client.delete("/api/v1/me", headers=headers)
    assert done.status_code == 202, await done.get_data(as_text=True)
    assert fake_paypal.subscriptions[paypal_sub["paypal_subscription_id"]]["status"] == "CANCELLED"
    assert await _stored_statuses(both, user_id) == ["CANCELLED", "CANCELLED"]


async def test_the_anonymised_user_keeps_no_identity_and_the_same_email_starts_a_new_user(
        servers, tmp_path):
    app = create_app(make_settings(servers, tmp_path, chat_providers=["local"]))
    async with app.test_app():
        client, users = app.test_client(), app.extensions["container"].identity.users
        headers = await auth_headers(app, "user_2xYzClerkId", email="ada@example.com")
        me = await (await client.get("/api/v1/me", headers=headers)).get_json()
        assert (await client.delete("/api/v1/me", headers=headers)).status_code == 202

        raw = await app.extensions["container"].platform.database.db["users"].find_one({"_id": me["id"]})
        stored = repr(raw)
        for personal in ("user_2xYzClerkId", "ada@example.com", "ada"):
            assert personal not in stored, (personal, raw)
        assert raw["deleted"] and raw["clerk_id"].startswith("erased:")
        # the still-valid token of the deleted subject neither signs in nor creates a user again
        assert (await client.get("/api/v1/me", headers=headers)).status_code in (401, 403)
        assert (await users.ensure_clerk_user("user_2xYzClerkId", email="ada@example.com")).deleted
        assert (await users.delete_clerk_user("user_2xYzClerkId"))[1] is False  # a late user.deleted
        assert await app.extensions["container"].platform.database.db["users"].count_documents(
            {"clerk_id": "user_2xYzClerkId"}) == 0

        again = await auth_headers(app, "user_NewClerkId", email="ada@example.com")  # signs up again
        fresh = await (await client.get("/api/v1/me", headers=again)).get_json()
        assert fresh["id"] != me["id"] and fresh["email"] == "ada@example.com"
        await app.extensions["container"].platform.database.client.drop_database(
            app.extensions["container"].settings.mongodb_db)
