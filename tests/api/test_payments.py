"""Credit-pack payments over HTTP against the fake PayPal (real MongoDB and Redis)."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

from tests.fakes.paypal import capture_event_for, refund_event
from tests.fixtures.identity import auth_headers


async def _user(app, clerk_id="buyer"):
    headers = await auth_headers(app, clerk_id)
    await app.test_client().get("/api/v1/me", headers=headers)  # just-in-time creation
    user = await app.extensions["container"].identity.users.get_by_clerk_id(clerk_id)
    return headers, user.id


async def _checkout(client, headers, pack="credits_100"):
    response = await client.post("/api/v1/payments/checkout", json={"pack": pack}, headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def _balance(app, user_id):
    return (await app.extensions["container"].credits.service.summary(user_id, plan="free"))["balance"]


async def _purchases(app, user_id):
    ops, _ = await app.extensions["container"].credits.service.ledger(user_id, limit=100)
    return [op for op in ops if op.kind == "purchase"]


async def _post(client, fake, event):
    """Deliver `event` to the webhook route with headers the fake PayPal vouches for."""
    return await client.post("/api/v1/webhooks/paypal", json=event, headers=fake.webhook_headers(event))


async def _payment(app, payment_id):
    return await app.extensions["container"].payments.records.get(payment_id)


async def test_checkout_takes_the_price_from_the_catalogue_and_returns_the_approve_url(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    tampered = await pay_client.post("/api/v1/payments/checkout", headers=headers,
                                     json={"pack": "credits_500", "amount": "0.01", "price": "0.01"})
    problem = await tampered.get_json()  # a price of the client's is refused by name, never used
    assert tampered.status_code == 422 and [e["loc"] for e in problem["errors"]] == [["amount"], ["price"]]
    assert not [r for r in fake_paypal.requests if r["kind"] == "create_order"]
    response = await pay_client.post("/api/v1/payments/checkout", headers=headers,
                                     json={"pack": "credits_500"})
    body = await response.get_json()
    assert response.status_code == 201
    assert body["status"] == "CREATED" and body["payment_id"].startswith("pay_")
    assert body["approve_url"].endswith(f"token={body['order_id']}")
    sent = next(r for r in fake_paypal.requests if r["kind"] == "create_order")["body"]
    assert sent["intent"] == "CAPTURE"
    assert sent["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "19.99"}
    assert sent["purchase_units"][0]["custom_id"] == body["payment_id"]
    context = sent["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"] == "https://api.example/api/v1/payments/paypal/return"
    assert context["cancel_url"] == "https://api.example/api/v1/payments/paypal/cancel"
    stored = await _payment(pay_app, body["payment_id"])
    assert (stored.user_id, stored.credits, stored.amount) == (user_id, 500, "19.99")
    assert stored.status == "CREATED"


async def test_unknown_pack_is_a_validation_error_and_anonymous_is_refused(pay_app, pay_client):
    headers, _ = await _user(pay_app)
    response = await pay_client.post("/api/v1/payments/checkout", json={"pack": "credits_7"}, headers=headers)
    assert response.status_code == 422
    response = await pay_client.post("/api/v1/payments/checkout", json={"pack": "credits_100"})
    assert response.status_code == 401


async def test_checkout_approve_return_redirects_to_success_and_credits_once(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    url = f"/api/v1/payments/paypal/return?token={checkout['order_id']}&PayerID=PAYER1"
    response = await pay_client.get(url)
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://app.example/checkout/success"
    assert parse_qs(location.query) == {"payment_id": [checkout["payment_id"]]}
    assert (await pay_client.get(url)).status_code == 303  # the browser reloads the page
    assert await _balance(pay_app, user_id) == 100
    purchases = await _purchases(pay_app, user_id)
    assert len(purchases) == 1
    assert purchases[0].ref == checkout["payment_id"] and purchases[0].delta == 100
    assert (await _payment(pay_app, checkout["payment_id"])).status == "COMPLETED"
    history = await (await pay_client.get("/api/v1/payments", headers=headers)).get_json()
    assert [p["status"] for p in history["items"]] == ["COMPLETED"]


async def test_return_unapproved_or_unknown_goes_to_the_cancel_url(pay_app, pay_client):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    response = await pay_client.get(f"/api/v1/payments/paypal/return?token={checkout['order_id']}")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://app.example/checkout/cancel")
    response = await pay_client.get("/api/v1/payments/paypal/return?token=NOPE")
    assert response.headers["Location"] == "https://app.example/checkout/cancel"
    assert await _balance(pay_app, user_id) == 0


async def test_cancel_marks_the_payment_cancelled(pay_app, pay_client):
    headers, _ = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    response = await pay_client.get(f"/api/v1/payments/paypal/cancel?token={checkout['order_id']}")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://app.example/checkout/cancel")
    assert (await _payment(pay_app, checkout["payment_id"])).status == "CANCELLED"


async def test_mobile_capture_returns_the_credits_and_is_idempotent(pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers, "credits_500")
    fake_paypal.approve(checkout["order_id"])
    url = f"/api/v1/payments/{checkout['payment_id']}/capture"
    first = await pay_client.post(url, headers=headers)
    body = await first.get_json()
    assert first.status_code == 200, body
    assert body["status"] == "COMPLETED" and body["credits_added"] == 500
    assert body["credits"]["balance"] == 500
    again = await (await pay_client.post(url, headers=headers)).get_json()
    assert again["credits"]["balance"] == 500
    assert await _balance(pay_app, user_id) == 500


async def test_another_users_payment_is_not_found(pay_app, pay_client, fake_paypal):
    headers, _ = await _user(pay_app)
    other, _ = await _user(pay_app, "someone_else")
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    response = await pay_client.post(f"/api/v1/payments/{checkout['payment_id']}/capture", headers=other)
    assert response.status_code == 404


async def test_returns_mobile_capture_and_webhook_racing_credit_exactly_once(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    for round_ in range(20):
        checkout = await _checkout(pay_client, headers)
        order_id = checkout["order_id"]
        fake_paypal.approve(order_id)
        order = fake_paypal.orders[order_id]
        event = capture_event_for(order, amount={"currency_code": "USD", "value": "4.99"},
                                  capture_id=f"CAP{order_id}")
        return_url = f"/api/v1/payments/paypal/return?token={order_id}&PayerID=P"
        responses = await asyncio.gather(
            pay_client.get(return_url), pay_client.get(return_url),
            pay_client.post(f"/api/v1/payments/{checkout['payment_id']}/capture", headers=headers),
            pay_client.post("/api/v1/webhooks/paypal", json=event,
                            headers=fake_paypal.webhook_headers(event)))
        assert [r.status_code for r in responses] == [303, 303, 200, 200], round_
        assert await _balance(pay_app, user_id) == 100 * (round_ + 1)
        stored = await _payment(pay_app, checkout["payment_id"])
        assert (stored.status, stored.external_capture_id, stored.credited) == (
            "COMPLETED", f"CAP{order_id}", True)
    purchases = await _purchases(pay_app, user_id)
    assert len(purchases) == 20
    assert len({p.ref for p in purchases}) == 20
    assert all(len(o["purchase_units"][0]["payments"]["captures"]) == 1 for o in fake_paypal.orders.values())


async def test_captured_amount_differing_from_the_pack_is_flagged_not_credited(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    fake_paypal.capture_amount = "0.99"
    response = await pay_client.post(f"/api/v1/payments/{checkout['payment_id']}/capture", headers=headers)
    body = await response.get_json()
    assert response.status_code == 409 and body["code"] == "payment_flagged"
    ret = await pay_client.get(f"/api/v1/payments/paypal/return?token={checkout['order_id']}")
    assert ret.headers["Location"].startswith("https://app.example/checkout/cancel")
    stored = await _payment(pay_app, checkout["payment_id"])
    assert stored.status == "FLAGGED" and stored.flag_reason == "amount_mismatch"
    assert stored.captured_amount == "0.99" and not stored.credited
    assert await _balance(pay_app, user_id) == 0
    assert await _purchases(pay_app, user_id) == []


async def test_paypal_timing_out_on_capture_is_retryable_and_the_retry_credits_once(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    fake_paypal.hang_next("capture", seconds=4, after_work=True)  # PayPal captured, the answer is lost
    url = f"/api/v1/payments/{checkout['payment_id']}/capture"
    response = await pay_client.post(url, headers=headers)
    problem = await response.get_json()
    assert response.status_code == 504
    assert response.content_type == "application/problem+json"
    assert problem["code"] == "provider_timeout" and "retry" in problem["detail"]
    assert await _balance(pay_app, user_id) == 0
    retry = await pay_client.post(url, headers=headers)
    assert retry.status_code == 200
    assert (await retry.get_json())["credits_added"] == 100
    assert await _balance(pay_app, user_id) == 100
    assert len(await _purchases(pay_app, user_id)) == 1
    captures = [r for r in fake_paypal.requests if r["kind"] == "capture"]
    assert {r["headers"]["paypal-request-id"] for r in captures} == {f"capture-{checkout['payment_id']}"}


async def test_paypal_5xx_on_capture_is_a_503_retryable_problem(pay_app, pay_client, fake_paypal):
    headers, _ = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    fake_paypal.fail_next("capture", 500)
    response = await pay_client.post(f"/api/v1/payments/{checkout['payment_id']}/capture", headers=headers)
    assert response.status_code == 503
    assert (await response.get_json())["code"] == "upstream_retryable"


async def test_refund_webhook_reverses_the_credits_and_flags_a_negative_balance(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    await pay_client.post(f"/api/v1/payments/{checkout['payment_id']}/capture", headers=headers)
    container = pay_app.extensions["container"]
    await container.credits.service.charge(user_id, 40, plan="free", kind="chat", ref="spent",
                                           request_id=None)
    spent_from_balance = 100 - await _balance(pay_app, user_id)
    capture_id = (await _payment(pay_app, checkout["payment_id"])).external_capture_id
    event = refund_event(capture_id, {"currency_code": "USD", "value": "4.99"})
    for _ in range(2):  # the second delivery is a replay
        response = await pay_client.post("/api/v1/webhooks/paypal", json=event,
                                         headers=fake_paypal.webhook_headers(event))
        assert response.status_code == 200
    ops, _ = await container.credits.service.ledger(user_id, limit=100)
    reversals = [op for op in ops if op.kind == "reversal"]
    assert len(reversals) == 1 and reversals[0].delta == -100
    assert await _balance(pay_app, user_id) == -spent_from_balance
    stored = await _payment(pay_app, checkout["payment_id"])
    assert stored.status == "REFUNDED" and stored.reversed_credits == 100
    flags = await container.payments.records.flags_for(user_id)
    assert spent_from_balance > 0 and len(flags) == 1  # 25 came from the allowance, 15 from the balance
    # a negative balance is never drawn from, but other pots still work and purchases pay the debt first
    await container.credits.service.charge(user_id, 3, plan="starter", kind="chat", ref="more",
                                           request_id=None)
    assert await _balance(pay_app, user_id) == -spent_from_balance
    await container.credits.service.purchase(user_id, 100, ref="later", request_id=None)
    assert await _balance(pay_app, user_id) == 100 - spent_from_balance


async def test_checkout_with_the_same_idempotency_key_creates_one_payment(pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    keyed = {**headers, "Idempotency-Key": "checkout-1"}
    first = await pay_client.post("/api/v1/payments/checkout", json={"pack": "credits_100"}, headers=keyed)
    second = await pay_client.post("/api/v1/payments/checkout", json={"pack": "credits_100"}, headers=keyed)
    assert first.status_code == second.status_code == 201
    assert await first.get_json() == await second.get_json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert fake_paypal.calls["create_order"] == 1
    history = await (await pay_client.get("/api/v1/payments", headers=headers)).get_json()
    assert len(history["items"]) == 1


async def test_payment_history_is_paginated_newest_first(pay_app, pay_client):
    headers, _ = await _user(pay_app)
    made = [(await _checkout(pay_client, headers))["payment_id"] for _ in range(3)]
    page = await (await pay_client.get("/api/v1/payments?limit=2", headers=headers)).get_json()
    assert [p["id"] for p in page["items"]] == made[::-1][:2]
    rest = await (await pay_client.get(f"/api/v1/payments?limit=2&cursor={page['next_cursor']}",
                                       headers=headers)).get_json()
    assert [p["id"] for p in rest["items"]] == made[:1] and rest["next_cursor"] is None
    other, _ = await _user(pay_app, "stranger")
    assert (await (await pay_client.get("/api/v1/payments", headers=other)).get_json())["items"] == []


async def test_paypal_timing_out_on_the_web_return_sends_the_buyer_to_cancel_with_the_error(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    fake_paypal.hang_next("capture", seconds=4, after_work=False)  # PayPal never saw the capture
    response = await pay_client.get(f"/api/v1/payments/paypal/return?token={checkout['order_id']}")
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query == {"payment_id": [checkout["payment_id"]], "error": ["provider_timeout"]}
    assert await _balance(pay_app, user_id) == 0
    retry = await pay_client.post(f"/api/v1/payments/{checkout['payment_id']}/capture", headers=headers)
    assert (await retry.get_json())["status"] == "COMPLETED"
    assert await _balance(pay_app, user_id) == 100


async def test_paypal_failing_on_checkout_is_retryable_and_leaves_a_failed_record(
        pay_app, pay_client, fake_paypal):
    headers, _ = await _user(pay_app)
    fake_paypal.fail_next("create_order", 502)
    response = await pay_client.post("/api/v1/payments/checkout", json={"pack": "credits_100"},
                                     headers=headers)
    assert response.status_code == 503
    assert (await response.get_json())["code"] == "upstream_retryable"
    history = await (await pay_client.get("/api/v1/payments", headers=headers)).get_json()
    assert [p["status"] for p in history["items"]] == ["FAILED"]
    assert (await _checkout(pay_client, headers))["status"] == "CREATED"


async def test_payments_are_unavailable_without_paypal_credentials(app, client):
    headers = await auth_headers(app, "nopaypal")
    response = await client.post("/api/v1/payments/checkout", json={"pack": "credits_100"}, headers=headers)
    assert response.status_code == 503
    assert (await response.get_json())["code"] == "feature_disabled"
    event = {"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {}}
    signed = {name: "x" for name in ("PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME",
                                     "PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL", "PAYPAL-AUTH-ALGO")}
    # a delivery with PayPal's headers: the processor is switched off (a missing header is a 400 first)
    assert (await client.post("/api/v1/webhooks/paypal", json=event, headers=signed)).status_code == 503
