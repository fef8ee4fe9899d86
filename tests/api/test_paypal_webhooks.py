"""PayPal webhooks: verification through PayPal, once per event id, capture and refund events."""

from __future__ import annotations

import asyncio

from tests.api.test_payments import _balance, _checkout, _payment, _post, _purchases, _user
from tests.fakes.paypal import capture_event_for, refund_event


async def _captured_by_webhook(pay_app, pay_client, fake_paypal, *, value="4.99"):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    order = fake_paypal.orders[checkout["order_id"]]
    event = capture_event_for(order, amount={"currency_code": "USD", "value": value})
    return checkout, user_id, event


async def _snapshot(pay_app, user_id, payment_id):
    container = pay_app.extensions["container"]
    ops, _ = await container.credits.service.ledger(user_id, limit=100)
    return (await _balance(pay_app, user_id), len(ops), (await _payment(pay_app, payment_id)).model_dump())


async def test_capture_completed_webhook_credits_the_pack(pay_app, pay_client, fake_paypal):
    checkout, user_id, event = await _captured_by_webhook(pay_app, pay_client, fake_paypal)
    response = await pay_client.post("/api/v1/webhooks/paypal", json=event,
                                     headers=fake_paypal.webhook_headers(event))
    assert response.status_code == 200
    assert await response.get_json() == {"received": True, "processed": True}
    assert await _balance(pay_app, user_id) == 100
    assert [p.ref for p in await _purchases(pay_app, user_id)] == [checkout["payment_id"]]
    verify = next(r for r in fake_paypal.requests if r["kind"] == "verify")["body"]
    assert verify["webhook_id"] == "WH-FAKE-1" and verify["webhook_event"]["id"] == event["id"]


async def test_signature_the_fake_calls_invalid_is_400_and_nothing_changes(pay_app, pay_client, fake_paypal):
    checkout, user_id, event = await _captured_by_webhook(pay_app, pay_client, fake_paypal)
    before = await _snapshot(pay_app, user_id, checkout["payment_id"])
    for headers in (fake_paypal.webhook_headers(event, valid=False), {}):
        response = await pay_client.post("/api/v1/webhooks/paypal", json=event, headers=headers)
        assert response.status_code == 400
        assert (await response.get_json())["code"] == "invalid_webhook"
    fake_paypal.signatures_valid = False  # PayPal answers FAILURE even for a well-formed delivery
    response = await pay_client.post("/api/v1/webhooks/paypal", json=event,
                                     headers=fake_paypal.webhook_headers(event))
    assert response.status_code == 400
    assert await _snapshot(pay_app, user_id, checkout["payment_id"]) == before
    fake_paypal.signatures_valid = True  # the genuine delivery afterwards is still processed
    response = await pay_client.post("/api/v1/webhooks/paypal", json=event,
                                     headers=fake_paypal.webhook_headers(event))
    assert (await response.get_json())["processed"] is True


async def test_same_event_id_replayed_is_200_and_nothing_changes(pay_app, pay_client, fake_paypal):
    checkout, user_id, event = await _captured_by_webhook(pay_app, pay_client, fake_paypal)
    first = await _post(pay_client, fake_paypal, event)
    assert (await first.get_json())["processed"] is True
    after_first = await _snapshot(pay_app, user_id, checkout["payment_id"])
    replays = await asyncio.gather(*(pay_client.post(
        "/api/v1/webhooks/paypal", json=event, headers=fake_paypal.webhook_headers(event)) for _ in range(5)))
    for response in replays:
        assert response.status_code == 200
        assert (await response.get_json())["processed"] is False
    assert await _snapshot(pay_app, user_id, checkout["payment_id"]) == after_first


async def test_webhook_with_a_mismatched_amount_flags_and_does_not_credit(pay_app, pay_client, fake_paypal):
    checkout, user_id, event = await _captured_by_webhook(pay_app, pay_client, fake_paypal, value="1.00")
    response = await pay_client.post("/api/v1/webhooks/paypal", json=event,
                                     headers=fake_paypal.webhook_headers(event))
    assert response.status_code == 200
    stored = await _payment(pay_app, checkout["payment_id"])
    assert stored.status == "FLAGGED" and not stored.credited
    assert await _balance(pay_app, user_id) == 0


async def test_concurrent_partial_refund_and_reversal_take_back_the_pack_once(
        pay_app, pay_client, fake_paypal):
    checkout, user_id, event = await _captured_by_webhook(pay_app, pay_client, fake_paypal)
    await _post(pay_client, fake_paypal, event)
    capture_id = event["resource"]["id"]
    partial = refund_event(capture_id, {"currency_code": "USD", "value": "2.50"})
    reversal = refund_event(capture_id, {"currency_code": "USD", "value": "4.99"},
                            event_type="PAYMENT.CAPTURE.REVERSED")
    responses = await asyncio.gather(*(_post(pay_client, fake_paypal, ev) for ev in (partial, reversal)))
    assert [r.status_code for r in responses] == [200, 200]
    ops, _ = await pay_app.extensions["container"].credits.service.ledger(user_id, limit=100)
    deltas = sorted(op.delta for op in ops if op.kind == "reversal")
    assert deltas in ([-50, -50], [-100])  # whichever PayPal event lands first
    assert await _balance(pay_app, user_id) == 0
    stored = await _payment(pay_app, checkout["payment_id"])
    assert stored.status == "REFUNDED" and stored.reversed_credits == 100


async def test_unknown_event_types_and_payments_are_acknowledged(pay_app, pay_client, fake_paypal):
    event = {"id": "WH-OTHER", "event_type": "CHECKOUT.ORDER.APPROVED", "resource": {"id": "X"}}
    response = await _post(pay_client, fake_paypal, event)
    assert response.status_code == 200
    response = await pay_client.post("/api/v1/webhooks/paypal", data=b"not json",
                                     headers={"Content-Type": "application/json"})
    assert response.status_code == 400
