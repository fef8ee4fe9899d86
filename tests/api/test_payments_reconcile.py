"""Denied/pending captures and the reconcile job, against the fake PayPal (real MongoDB and Redis)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from app.jobs import reconcile_payments
from app.wiring.jobs import arq_context
from app.worker import build_worker, release_worker
from services.payments.reconcile import PaymentReconciler
from tests.api.test_payments import _balance, _checkout, _payment, _post, _purchases, _user
from tests.fakes.paypal import capture_completed_event, capture_denied_event, capture_event_for
from tests.fixtures.credits import travel


async def _run_job(pay_app) -> dict:
    return await reconcile_payments({**arq_context(pay_app.extensions["container"]), "job_id": "t"})


async def _reversals(pay_app, user_id):
    ops, _ = await pay_app.extensions["container"].credits.service.ledger(user_id, limit=100)
    return [op for op in ops if op.kind == "reversal"]


async def test_approved_order_never_returned_is_captured_and_credited_once_by_the_job(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])  # the buyer approves, closes the tab; no webhook comes
    assert (await _run_job(pay_app))["checked"] == 0  # younger than PAYMENTS_RECONCILE_AFTER_S
    travel(timedelta(minutes=11))
    first = await _run_job(pay_app)
    assert (first["checked"], first["completed"]) == (1, 1)
    assert (await _run_job(pay_app))["checked"] == 0
    assert await _balance(pay_app, user_id) == 100
    assert [p.ref for p in await _purchases(pay_app, user_id)] == [checkout["payment_id"]]
    stored = await _payment(pay_app, checkout["payment_id"])
    assert stored.status == "COMPLETED" and stored.credited and stored.external_capture_id
    capture = next(r for r in fake_paypal.requests if r["kind"] == "capture")
    assert capture["headers"]["paypal-request-id"] == f"capture-{checkout['payment_id']}"


async def test_job_twice_and_a_late_return_and_mobile_capture_at_once_credit_once(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    travel(timedelta(minutes=11))
    results = await asyncio.gather(
        _run_job(pay_app), _run_job(pay_app),
        pay_client.get(f"/api/v1/payments/paypal/return?token={checkout['order_id']}"),
        pay_client.post(f"/api/v1/payments/{checkout['payment_id']}/capture", headers=headers))
    assert results[2].status_code == 303
    assert results[2].headers["Location"].startswith("https://app.example/checkout/success")
    assert (await results[3].get_json())["status"] == "COMPLETED"
    assert await _balance(pay_app, user_id) == 100
    assert len(await _purchases(pay_app, user_id)) == 1
    order = fake_paypal.orders[checkout["order_id"]]
    assert len(order["purchase_units"][0]["payments"]["captures"]) == 1  # PayPal captured once
    assert {r["headers"]["paypal-request-id"] for r in fake_paypal.requests if r["kind"] == "capture"} == {
        f"capture-{checkout['payment_id']}"}


async def test_pending_capture_credits_nothing_until_paypal_completes_it_then_once(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    fake_paypal.capture_status = "PENDING"
    url = f"/api/v1/payments/{checkout['payment_id']}/capture"
    response = await pay_client.post(url, headers=headers)
    body = await response.get_json()
    assert response.status_code == 200
    assert (body["status"], body["credits_added"]) == ("PENDING", 0)
    back = await pay_client.get(f"/api/v1/payments/paypal/return?token={checkout['order_id']}")
    assert parse_qs(urlsplit(back.headers["Location"]).query) == {
        "payment_id": [checkout["payment_id"]], "status": ["pending"]}
    travel(timedelta(minutes=11))
    assert (await _run_job(pay_app))["pending"] == 1  # PayPal still holds it
    assert await _balance(pay_app, user_id) == 0
    order = fake_paypal.settle_capture(checkout["order_id"], "COMPLETED")
    event = capture_completed_event(order)
    results = await asyncio.gather(_post(pay_client, fake_paypal, event), _run_job(pay_app),
                                   pay_client.post(url, headers=headers))
    assert results[0].status_code == 200
    assert (await results[2].get_json())["status"] == "COMPLETED"
    assert await _balance(pay_app, user_id) == 100
    assert len(await _purchases(pay_app, user_id)) == 1
    assert (await _payment(pay_app, checkout["payment_id"])).status == "COMPLETED"
    assert fake_paypal.calls["capture"] == 1  # a PENDING payment is re-read, never re-captured


async def test_denied_capture_is_a_402_marks_the_payment_denied_and_credits_nothing(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    fake_paypal.capture_status = "DECLINED"
    url = f"/api/v1/payments/{checkout['payment_id']}/capture"
    for _ in range(2):
        response = await pay_client.post(url, headers=headers)
        body = await response.get_json()
        assert response.status_code == 402, body
        assert body["code"] == "payment_declined" and body["payment_id"] == checkout["payment_id"]
    back = await pay_client.get(f"/api/v1/payments/paypal/return?token={checkout['order_id']}")
    assert parse_qs(urlsplit(back.headers["Location"]).query)["error"] == ["payment_declined"]
    assert (await _payment(pay_app, checkout["payment_id"])).status == "DENIED"
    order = fake_paypal.orders[checkout["order_id"]]
    late = capture_event_for(order, amount={"currency_code": "USD", "value": "4.99"},
                             capture_id=f"CAP{checkout['order_id']}")
    assert (await _post(pay_client, fake_paypal, late)).status_code == 200  # DENIED is final
    travel(timedelta(minutes=11))
    assert (await _run_job(pay_app))["checked"] == 0
    assert await _balance(pay_app, user_id) == 0 and await _purchases(pay_app, user_id) == []
    history = await (await pay_client.get("/api/v1/payments", headers=headers)).get_json()
    assert [p["status"] for p in history["items"]] == ["DENIED"]


async def test_pending_capture_denied_by_webhook_once_and_declined_event_too(
        pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    fake_paypal.capture_status = "PENDING"
    payments = []
    for event_type in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
        checkout = await _checkout(pay_client, headers)
        fake_paypal.approve(checkout["order_id"])
        await pay_client.post(f"/api/v1/payments/{checkout['payment_id']}/capture", headers=headers)
        order = fake_paypal.settle_capture(checkout["order_id"], "DECLINED")
        event = capture_denied_event(order, event_type=event_type)
        first, replay = [await _post(pay_client, fake_paypal, event) for _ in range(2)]
        assert (await first.get_json())["processed"] is True
        assert (await replay.get_json())["processed"] is False
        payments.append(checkout["payment_id"])
    for payment_id in payments:
        assert (await _payment(pay_app, payment_id)).status == "DENIED"
    travel(timedelta(minutes=11))
    assert (await _run_job(pay_app))["checked"] == 0
    assert await _balance(pay_app, user_id) == 0 and await _purchases(pay_app, user_id) == []


async def test_denial_after_crediting_reverses_the_pack_once(pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    await pay_client.post(f"/api/v1/payments/{checkout['payment_id']}/capture", headers=headers)
    assert await _balance(pay_app, user_id) == 100
    order = fake_paypal.orders[checkout["order_id"]]
    for _ in range(2):  # two deliveries with different event ids
        assert (await _post(pay_client, fake_paypal, capture_denied_event(order))).status_code == 200
    assert [op.delta for op in await _reversals(pay_app, user_id)] == [-100]
    assert await _balance(pay_app, user_id) == 0
    stored = await _payment(pay_app, checkout["payment_id"])
    assert stored.status == "DENIED" and stored.reversed_credits == 100


async def test_voided_and_stale_unapproved_orders_expire(pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    stale = await _checkout(pay_client, headers)
    voided = await _checkout(pay_client, headers)
    fake_paypal.void(voided["order_id"])
    travel(timedelta(minutes=11))
    counts = await _run_job(pay_app)
    assert (counts["checked"], counts["expired"], counts["open"]) == (2, 1, 1)
    assert (await _payment(pay_app, voided["payment_id"])).status == "EXPIRED"
    assert (await _payment(pay_app, stale["payment_id"])).status == "CREATED"  # the buyer may still pay
    travel(timedelta(days=3))
    assert (await _run_job(pay_app))["expired"] == 1
    assert (await _payment(pay_app, stale["payment_id"])).status == "EXPIRED"
    assert (await _run_job(pay_app))["checked"] == 0
    assert await _balance(pay_app, user_id) == 0


async def test_paypal_down_is_retried_next_run_and_batches_are_bounded(pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    made = [await _checkout(pay_client, headers) for _ in range(3)]
    for checkout in made:
        fake_paypal.approve(checkout["order_id"])
    container = pay_app.extensions["container"]
    reconciler = PaymentReconciler(container.payments.records, container.payments.service, older_than_s=0,
                                   expire_after_s=3600, batch=2)
    fake_paypal.fail_next("get_order", 503)
    first = await reconciler.run()
    assert (first["checked"], first["errors"], first["completed"]) == (2, 1, 1)
    second = await reconciler.run()  # the payment not yet looked at goes first, then the failed one
    assert (second["checked"], second["completed"]) == (2, 2)
    assert await _balance(pay_app, user_id) == 300
    assert (await reconciler.run())["checked"] == 0


async def test_job_is_a_registered_cron_and_skips_without_paypal(container):
    worker = build_worker(container, handle_signals=False, burst=True)
    assert "cron:payments_reconcile" in {c.name for c in worker.cron_jobs}
    await release_worker(worker)
    assert (await reconcile_payments(arq_context(container)))["skipped"] is True


async def test_denial_racing_a_capture_leaves_nothing_credited(pay_app, pay_client, fake_paypal):
    headers, user_id = await _user(pay_app)
    checkout = await _checkout(pay_client, headers)
    fake_paypal.approve(checkout["order_id"])
    capture_id = f"CAP{checkout['order_id']}"  # the id the fake gives the capture
    order = {**fake_paypal.orders[checkout["order_id"]]}
    order["purchase_units"] = [{**order["purchase_units"][0], "payments": {"captures": [{
        "id": capture_id, "status": "DECLINED", "custom_id": checkout["payment_id"],
        "amount": {"currency_code": "USD", "value": "4.99"}}]}}]
    captured, denied = await asyncio.gather(
        pay_client.post(f"/api/v1/payments/{checkout['payment_id']}/capture", headers=headers),
        _post(pay_client, fake_paypal, capture_denied_event(order)))
    assert captured.status_code in (200, 402) and denied.status_code == 200
    assert await _balance(pay_app, user_id) == 0  # credited then reversed, or never credited
    assert (await _payment(pay_app, checkout["payment_id"])).status == "DENIED"
    assert len(await _purchases(pay_app, user_id)) == len(await _reversals(pay_app, user_id))
