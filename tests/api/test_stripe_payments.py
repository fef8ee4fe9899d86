"""Credit packs bought through Stripe Checkout, over HTTP, against the fake Stripe that the real SDK
talks to (real MongoDB and Redis): exactly-once crediting whoever settles first, refunds, disputes,
signatures, the customer and the portal."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest

from services.payments.reconcile import PaymentReconciler
from tests.fakes.stripe import FakeStripe
from tests.fixtures.identity import auth_headers

WEBHOOK = "/api/v1/webhooks/stripe"


async def _user(app, clerk_id="buyer"):
    headers = await auth_headers(app, clerk_id)
    await app.test_client().get("/api/v1/me", headers=headers)  # just-in-time creation
    user = await app.extensions["container"].identity.users.get_by_clerk_id(clerk_id)
    return headers, user.id


async def _checkout(client, headers, pack="credits_100", **extra):
    response = await client.post("/api/v1/payments/checkout", json={"pack": pack, **extra}, headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def _balance(app, user_id):
    return (await app.extensions["container"].credits.service.summary(user_id, plan="free"))["balance"]


async def _ledger(app, user_id, kind):
    ops, _ = await app.extensions["container"].credits.service.ledger(user_id, limit=100)
    return [op for op in ops if op.kind == kind]


async def _payment(app, payment_id):
    return await app.extensions["container"].payments.records.get(payment_id)


async def _deliver(client, fake: FakeStripe, *, twice=False, reverse=False, expect=200):
    """POST every queued event to the webhook route, signed like Stripe; the answers' status codes."""
    codes = []
    for body, headers in fake.deliveries(twice=twice, reverse=reverse):
        response = await client.post(WEBHOOK, data=body, headers=headers)
        codes.append(response.status_code)
    if expect is not None:
        assert set(codes) <= {expect}, codes
    return codes


def _reconciler(app) -> PaymentReconciler:
    container = app.extensions["container"]
    return PaymentReconciler(container.payments.records, container.payments.service, older_than_s=0,
                             expire_after_s=3600, batch=10)


async def test_checkout_prices_from_the_catalogue_and_reuses_one_customer(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    tampered = await stripe_client.post("/api/v1/payments/checkout", headers=headers,
                                        json={"pack": "credits_500", "amount": "0.01"})
    assert tampered.status_code == 422  # a price of the client's is refused by name, never used
    assert (await tampered.get_json())["errors"][0]["loc"] == ["amount"] and not fake_stripe.sessions
    body = await _checkout(stripe_client, headers, "credits_500")
    assert body["provider"] == "stripe" and body["payment_id"].startswith("pay_")
    session = fake_stripe.sessions[body["order_id"]]
    assert body["checkout_url"] == session["url"] and body["status"] == "CREATED"
    sent = next(r for r in fake_stripe.requests if r["kind"] == "create_session")
    assert sent["params"]["mode"] == "payment"
    assert sent["params"]["line_items"][0]["price_data"]["unit_amount"] == "1999"
    assert sent["params"]["line_items"][0]["price_data"]["currency"] == "usd"
    assert sent["params"]["client_reference_id"] == body["payment_id"]
    assert sent["params"]["success_url"] == (
        "https://api.example/api/v1/payments/stripe/return?session_id={CHECKOUT_SESSION_ID}")
    assert sent["params"]["cancel_url"].startswith("https://api.example/api/v1/payments/stripe/cancel?")
    assert sent["headers"]["idempotency-key"] == f"create-{body['payment_id']}"
    second = await _checkout(stripe_client, headers, "credits_100")
    assert fake_stripe.calls["create_customer"] == 1
    customers = {fake_stripe.sessions[b["order_id"]]["customer"] for b in (body, second)}
    assert len(customers) == 1 and next(iter(customers)).startswith("cus_")
    history = await (await stripe_client.get("/api/v1/payments", headers=headers)).get_json()
    assert [p["provider"] for p in history["items"]] == ["stripe", "stripe"]
    assert (await _payment(stripe_app, body["payment_id"])).user_id == user_id


async def test_concurrent_first_checkouts_of_a_user_make_one_customer(stripe_app, stripe_client, fake_stripe):
    headers, _ = await _user(stripe_app)
    made = await asyncio.gather(*(_checkout(stripe_client, headers) for _ in range(4)))
    customers = {fake_stripe.sessions[b["order_id"]]["customer"] for b in made}
    assert len(customers) == 1


async def test_plans_list_the_enabled_providers_and_an_unconfigured_one_is_503(stripe_app, stripe_client):
    plans = await (await stripe_client.get("/api/v1/plans")).get_json()
    assert plans["payment_providers"] == ["stripe"]
    headers, _ = await _user(stripe_app)
    response = await stripe_client.post("/api/v1/payments/checkout", headers=headers,
                                        json={"pack": "credits_100", "provider": "paypal"})
    assert response.status_code == 503
    assert (await response.get_json())["code"] == "feature_disabled"
    response = await stripe_client.post("/api/v1/subscriptions", headers=headers,
                                        json={"plan": "starter", "provider": "paypal"})
    assert response.status_code == 503
    response = await stripe_client.post("/api/v1/payments/checkout", headers=headers,
                                        json={"pack": "credits_100", "provider": "bitcoin"})
    assert response.status_code == 422


async def test_the_success_return_credits_once_and_redirects(stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _checkout(stripe_client, headers)
    fake_stripe.pay(body["order_id"])
    for _ in range(2):
        response = await stripe_client.get(f"/api/v1/payments/stripe/return?session_id={body['order_id']}")
        assert response.status_code == 303
        location = urlsplit(response.headers["Location"])
        assert location.netloc == "app.example" and location.path == "/checkout/success"
        assert parse_qs(location.query)["payment_id"] == [body["payment_id"]]
    await _deliver(stripe_client, fake_stripe, twice=True)
    assert await _balance(stripe_app, user_id) == 100
    assert len(await _ledger(stripe_app, user_id, "purchase")) == 1
    stored = await _payment(stripe_app, body["payment_id"])
    assert stored.status == "COMPLETED" and stored.external_capture_id.startswith("pi_")


async def test_an_unpaid_return_goes_to_the_cancel_url_and_cancel_marks_it(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _checkout(stripe_client, headers)
    response = await stripe_client.get(f"/api/v1/payments/stripe/return?session_id={body['order_id']}")
    assert urlsplit(response.headers["Location"]).path == "/checkout/cancel"
    response = await stripe_client.get(f"/api/v1/payments/stripe/cancel?payment_id={body['payment_id']}")
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/checkout/cancel"
    assert (await _payment(stripe_app, body["payment_id"])).status == "CANCELLED"
    assert await _balance(stripe_app, user_id) == 0


@pytest.mark.parametrize("first", ["webhook", "return", "capture", "reconcile"])
async def test_a_paid_pack_is_credited_once_whoever_arrives_first(
        stripe_app, stripe_client, fake_stripe, first):
    headers, user_id = await _user(stripe_app)
    body = await _checkout(stripe_client, headers)
    fake_stripe.pay(body["order_id"])
    deliveries = fake_stripe.deliveries()

    async def webhook():
        for payload, hook_headers in deliveries:
            assert (await stripe_client.post(WEBHOOK, data=payload, headers=hook_headers)).status_code == 200

    async def back():
        url = f"/api/v1/payments/stripe/return?session_id={body['order_id']}"
        assert (await stripe_client.get(url)).status_code == 303

    async def capture():
        response = await stripe_client.post(f"/api/v1/payments/{body['payment_id']}/capture", headers=headers)
        assert response.status_code == 200 and (await response.get_json())["status"] == "COMPLETED"

    async def reconcile():
        await _reconciler(stripe_app).run()

    paths = {"webhook": webhook, "return": back, "capture": capture, "reconcile": reconcile}
    await paths[first]()
    assert await _balance(stripe_app, user_id) == 100
    await asyncio.gather(*(path() for path in paths.values()))
    assert await _balance(stripe_app, user_id) == 100
    assert len(await _ledger(stripe_app, user_id, "purchase")) == 1


async def test_webhook_return_capture_and_reconcile_racing_credit_once(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    made = [await _checkout(stripe_client, headers) for _ in range(3)]
    for body in made:
        fake_stripe.pay(body["order_id"])
    deliveries = fake_stripe.deliveries(twice=True)
    fake_stripe.hang_next("get_session", 0.2, times=4)  # widen the window: slow Stripe answers
    calls = [stripe_client.post(WEBHOOK, data=payload, headers=h) for payload, h in deliveries]
    for body in made:
        calls += [stripe_client.get(f"/api/v1/payments/stripe/return?session_id={body['order_id']}"),
                  stripe_client.post(f"/api/v1/payments/{body['payment_id']}/capture", headers=headers)]
    results = await asyncio.gather(*calls, _reconciler(stripe_app).run(), _reconciler(stripe_app).run())
    assert all(r.status_code in (200, 303) for r in results[:-2])
    assert await _balance(stripe_app, user_id) == 300
    purchases = await _ledger(stripe_app, user_id, "purchase")
    assert sorted(op.ref for op in purchases) == sorted(b["payment_id"] for b in made)


async def test_reconcile_credits_a_paid_session_never_announced_and_expires_dead_ones(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    paid, dead, open_ = [await _checkout(stripe_client, headers) for _ in range(3)]
    fake_stripe.pay(paid["order_id"])
    fake_stripe.take_events()  # the webhook never arrives; the buyer never comes back
    fake_stripe.sessions[dead["order_id"]]["status"] = "expired"
    counts = await _reconciler(stripe_app).run()
    assert (counts["completed"], counts["expired"], counts["open"]) == (1, 1, 1)
    assert await _balance(stripe_app, user_id) == 100
    assert (await _payment(stripe_app, dead["payment_id"])).status == "EXPIRED"
    assert (await _payment(stripe_app, open_["payment_id"])).status == "CREATED"


async def test_reconcile_survives_stripe_failing_and_retries_next_run(stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _checkout(stripe_client, headers)
    fake_stripe.pay(body["order_id"])
    fake_stripe.take_events()
    for status in (429, 500):
        fake_stripe.fail_next("get_session", status)
        counts = await _reconciler(stripe_app).run()
        assert counts["errors"] == 1 and await _balance(stripe_app, user_id) == 0
    fake_stripe.hang_next("get_session", 5, after_work=False)  # longer than STRIPE_TIMEOUT_S (2 s)
    assert (await _reconciler(stripe_app).run())["errors"] == 1
    assert (await _reconciler(stripe_app).run())["completed"] == 1
    assert await _balance(stripe_app, user_id) == 100


async def test_checkout_when_stripe_fails_is_a_retryable_error_and_nothing_is_charged(
        stripe_app, stripe_client, fake_stripe):
    headers, _ = await _user(stripe_app)
    fake_stripe.fail_next("create_session", 503)
    response = await stripe_client.post("/api/v1/payments/checkout", json={"pack": "credits_100"},
                                        headers=headers)
    assert response.status_code in (502, 503) and (await response.get_json())["code"] in (
        "upstream_retryable", "provider_unavailable")
    fake_stripe.fail_next("create_session", 429)
    response = await stripe_client.post("/api/v1/payments/checkout", json={"pack": "credits_100"},
                                        headers=headers)
    assert response.status_code in (502, 503)
    await _checkout(stripe_client, headers)  # and then it works


async def test_a_refund_reverses_the_pack_once(stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _checkout(stripe_client, headers, "credits_500")
    fake_stripe.pay(body["order_id"])
    await _deliver(stripe_client, fake_stripe)
    assert await _balance(stripe_app, user_id) == 500
    fake_stripe.refund(body["order_id"])
    await _deliver(stripe_client, fake_stripe, twice=True)
    assert await _balance(stripe_app, user_id) == 0
    reversals = await _ledger(stripe_app, user_id, "reversal")
    assert [op.delta for op in reversals] == [-500] and reversals[0].reason == "stripe_refund"
    assert (await _payment(stripe_app, body["payment_id"])).status == "REFUNDED"


async def test_a_partial_refund_reverses_its_share(stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _checkout(stripe_client, headers, "credits_500")  # 19.99
    fake_stripe.pay(body["order_id"])
    await _deliver(stripe_client, fake_stripe)
    fake_stripe.refund(body["order_id"], amount=999)
    await _deliver(stripe_client, fake_stripe, twice=True)
    assert await _balance(stripe_app, user_id) == 251  # floor(500 * 9.99 / 19.99) = 249 reversed
    assert (await _payment(stripe_app, body["payment_id"])).status == "PARTIALLY_REFUNDED"


async def test_a_dispute_reverses_the_pack_once(stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _checkout(stripe_client, headers)
    fake_stripe.pay(body["order_id"])
    await _deliver(stripe_client, fake_stripe)
    fake_stripe.dispute(body["order_id"])
    await _deliver(stripe_client, fake_stripe, twice=True)
    assert await _balance(stripe_app, user_id) == 0
    assert [op.delta for op in await _ledger(stripe_app, user_id, "reversal")] == [-100]


async def test_a_refund_that_overtakes_its_checkout_event_is_retried_until_it_applies(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _checkout(stripe_client, headers)
    fake_stripe.pay(body["order_id"])
    fake_stripe.refund(body["order_id"])
    codes = await _deliver(stripe_client, fake_stripe, reverse=True, twice=True, expect=None)
    assert codes[:2] == [409, 409] and codes[2:] == [200, 200]  # refund first: not yet; then the checkout
    assert await _balance(stripe_app, user_id) == 100
    # Stripe retries the refund later: now it applies, once
    refund_event = next(e for e in fake_stripe.history if e["type"] == "charge.refunded")
    payload, hook_headers = fake_stripe.delivery(refund_event)
    assert (await stripe_client.post(WEBHOOK, data=payload, headers=hook_headers)).status_code == 200
    assert await _balance(stripe_app, user_id) == 0
    assert len(await _ledger(stripe_app, user_id, "reversal")) == 1


@pytest.mark.parametrize("problem", ["forged", "stale", "missing", "garbage"])
async def test_a_bad_or_stale_signature_is_400_and_nothing_is_written(
        stripe_app, stripe_client, fake_stripe, problem):
    headers, user_id = await _user(stripe_app)
    body = await _checkout(stripe_client, headers)
    fake_stripe.pay(body["order_id"])
    event = fake_stripe.take_events()[0]
    payload, hook_headers = fake_stripe.delivery(event, valid=problem != "forged",
                                                 age_s=301 if problem == "stale" else 0)
    if problem == "missing":
        hook_headers.pop("Stripe-Signature")
    if problem == "garbage":
        hook_headers["Stripe-Signature"] = "t=abc,v1=zz"
    response = await stripe_client.post(WEBHOOK, data=payload, headers=hook_headers)
    assert response.status_code == 400
    assert (await response.get_json())["code"] == "invalid_webhook"
    container = stripe_app.extensions["container"]
    assert not await container.identity.webhook_events.seen("stripe", event["id"])
    assert (await _payment(stripe_app, body["payment_id"])).status == "CREATED"
    assert await _balance(stripe_app, user_id) == 0
    good_payload, good_headers = fake_stripe.delivery(event)  # the genuine delivery still counts
    assert (await stripe_client.post(WEBHOOK, data=good_payload, headers=good_headers)).status_code == 200
    assert await _balance(stripe_app, user_id) == 100


async def test_the_portal_url_comes_back_for_a_customer_and_404_without_one(
        stripe_app, stripe_client, fake_stripe):
    headers, _ = await _user(stripe_app)
    response = await stripe_client.post("/api/v1/billing/portal", headers=headers)
    assert response.status_code == 404 and (await response.get_json())["code"] == "not_found"
    body = await _checkout(stripe_client, headers)
    customer = fake_stripe.sessions[body["order_id"]]["customer"]
    response = await stripe_client.post("/api/v1/billing/portal", headers=headers)
    assert response.status_code == 200
    assert (await response.get_json())["url"] == f"{fake_stripe.url}/p/session/{customer}"
    assert fake_stripe.portals[-1]["return_url"] == "https://api.example/"
    assert (await stripe_client.post("/api/v1/billing/portal")).status_code == 401


async def test_the_portal_without_any_processor_is_503(client, app):
    headers = await auth_headers(app, "nobody")
    response = await client.post("/api/v1/billing/portal", headers=headers)
    assert response.status_code == 503 and (await response.get_json())["code"] == "feature_disabled"


async def test_two_server_instances_racing_every_path_credit_each_pack_once(servers, tmp_path, fake_stripe):
    from tests.conftest import app_instances, make_settings
    from tests.fixtures.stripe_payments import stripe_overrides

    settings = make_settings(servers, tmp_path, **stripe_overrides(fake_stripe))
    async with app_instances(settings, count=2) as (one, two):
        headers, user_id = await _user(one)
        first, second = one.test_client(), two.test_client()
        made = [await _checkout(first, headers) for _ in range(5)]
        for body in made:
            fake_stripe.pay(body["order_id"])
        calls = []
        for i, (payload, hook_headers) in enumerate(fake_stripe.deliveries(twice=True)):
            calls.append((first if i % 2 else second).post(WEBHOOK, data=payload, headers=hook_headers))
        for body in made:
            calls += [first.get(f"/api/v1/payments/stripe/return?session_id={body['order_id']}"),
                      second.post(f"/api/v1/payments/{body['payment_id']}/capture", headers=headers)]
        results = await asyncio.gather(*calls, _reconciler(one).run(), _reconciler(two).run())
        assert all(r.status_code in (200, 303) for r in results[:-2])
        assert await _balance(one, user_id) == 500
        assert len(await _ledger(one, user_id, "purchase")) == 5


async def test_a_refund_and_a_dispute_of_one_pack_never_reverse_more_than_it_gave(
        stripe_app, stripe_client, fake_stripe):
    headers, user_id = await _user(stripe_app)
    body = await _checkout(stripe_client, headers)
    fake_stripe.pay(body["order_id"])
    await _deliver(stripe_client, fake_stripe)
    fake_stripe.refund(body["order_id"])
    fake_stripe.dispute(body["order_id"])
    await _deliver(stripe_client, fake_stripe, twice=True, reverse=True)
    assert await _balance(stripe_app, user_id) == 0
    assert sum(op.delta for op in await _ledger(stripe_app, user_id, "reversal")) == -100
