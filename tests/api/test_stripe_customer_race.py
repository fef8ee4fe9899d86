"""Issue 27 item 7: two simultaneous first checkouts of a new user both create its Stripe customer with
one Idempotency-Key (`customer-<user id>`); while the first request is still in progress, Stripe
answers the second 409 `idempotency_key_in_use`. Muse sends it again after a pause and gets the first
one's customer replayed: both checkouts succeed, on one customer."""

from __future__ import annotations

import asyncio

from tests.conftest import app_instances, make_settings
from tests.fixtures.identity import auth_headers
from tests.fixtures.stripe_payments import stripe_overrides


async def test_simultaneous_first_checkouts_on_two_servers_share_one_customer_through_a_409(
        servers, tmp_path, fake_stripe):
    settings = make_settings(servers, tmp_path, **stripe_overrides(fake_stripe))
    async with app_instances(settings, count=2) as apps:
        headers = await auth_headers(apps[0], "racer")
        await apps[0].test_client().get("/api/v1/me", headers=headers)  # the user exists; no customer yet
        fake_stripe.hang_next("create_customer", 0.6, after_work=True)  # Stripe still making it

        async def checkout(app, pack):
            return await app.test_client().post("/api/v1/payments/checkout", headers=headers,
                                                json={"pack": pack, "provider": "stripe"})

        answers = await asyncio.gather(checkout(apps[0], "credits_100"), checkout(apps[1], "credits_500"))
        bodies = [await a.get_json() for a in answers]
        assert [a.status_code for a in answers] == [201, 201], bodies
        assert fake_stripe.key_conflicts >= 1  # the collision happened, and was waited out
        assert len(fake_stripe.customers) == 1
        customer = next(iter(fake_stripe.customers))
        assert {fake_stripe.sessions[b["order_id"]]["customer"] for b in bodies} == {customer}
        keys = {r["headers"]["idempotency-key"] for r in fake_stripe.requests
                if r["kind"] == "create_customer"}
        assert len(keys) == 1


async def test_only_a_key_in_use_is_sent_again_other_conflicts_answer_at_once(servers, tmp_path, fake_stripe):
    settings = make_settings(servers, tmp_path, **stripe_overrides(fake_stripe))
    async with app_instances(settings, count=1) as (app,):
        headers = await auth_headers(app, "stuck")
        await app.test_client().get("/api/v1/me", headers=headers)
        fake_stripe.fail_next("create_customer", 409, times=20)  # a 409 with another code
        answer = await app.test_client().post("/api/v1/payments/checkout", headers=headers,
                                              json={"pack": "credits_100"})
        assert answer.status_code in (502, 503) and fake_stripe.calls["create_customer"] == 1
