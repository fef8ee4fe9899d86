"""The PayPal adapter (real SDK + httpx) against the wire fake."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.problems import status_of
from services.payments.ports import PaymentRejected, PaymentsProvider
from services.platform.errors import NotFound, UpstreamRetryable, UpstreamTimeout


async def _order(provider, payment_id="pay_1", amount="4.99"):
    return await provider.create_checkout(
        payment_id=payment_id, amount=amount, currency="USD", description="100 credits",
        return_url="https://api.example/return", cancel_url="https://api.example/cancel",
        request_id=f"create-{payment_id}")


async def test_adapter_satisfies_the_port(paypal_provider):
    assert isinstance(paypal_provider, PaymentsProvider)


async def test_create_order_sends_capture_intent_custom_id_urls_and_request_id(paypal_provider, fake_paypal):
    order = await _order(paypal_provider)
    assert order.status == "CREATED"
    assert order.approve_url.endswith(f"token={order.id}")
    request = next(r for r in fake_paypal.requests if r["kind"] == "create_order")
    assert request["headers"]["paypal-request-id"] == "create-pay_1"
    assert request["body"]["intent"] == "CAPTURE"
    unit = request["body"]["purchase_units"][0]
    assert unit["custom_id"] == "pay_1"
    assert unit["amount"] == {"currency_code": "USD", "value": "4.99"}
    context = request["body"]["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"] == "https://api.example/return"
    assert context["cancel_url"] == "https://api.example/cancel"


async def test_repeated_create_with_the_same_request_id_returns_the_same_order(paypal_provider, fake_paypal):
    first, second = await _order(paypal_provider), await _order(paypal_provider)
    assert first.id == second.id
    assert len(fake_paypal.orders) == 1


async def test_token_is_fetched_once_and_shared_by_sdk_and_httpx(paypal_provider, fake_paypal):
    order = await _order(paypal_provider)
    await paypal_provider.get_checkout(order.id)
    sub = await paypal_provider.start_subscription(
        plan="pro", custom_id="sub_1", return_url="https://r", cancel_url="https://c", request_id="s1")
    await paypal_provider.get_subscription(sub.id)
    await asyncio.gather(*(paypal_provider.get_checkout(order.id) for _ in range(5)))
    assert fake_paypal.calls["token"] == 1


async def test_expired_token_is_fetched_again(paypal_provider, fake_paypal):
    fake_paypal.expires_in = 1  # shorter than the refresh margin: refreshed after ~0.5 s
    order = await _order(paypal_provider)
    await asyncio.sleep(2.1)  # the SDK re-asks our cache at most every ~2 s
    await paypal_provider.get_checkout(order.id)
    assert fake_paypal.calls["token"] == 2


async def test_capture_after_approval_reports_the_capture(paypal_provider, fake_paypal):
    order = await _order(paypal_provider)
    fake_paypal.approve(order.id)
    captured = await paypal_provider.capture_checkout(order.id, request_id="cap-pay_1")
    assert captured.status == "COMPLETED"
    assert captured.capture.amount == "4.99" and captured.capture.currency == "USD"
    assert captured.custom_id == "pay_1"
    request = next(r for r in fake_paypal.requests if r["kind"] == "capture")
    assert request["headers"]["paypal-request-id"] == "cap-pay_1"
    again = await paypal_provider.capture_checkout(order.id, request_id="cap-pay_1")
    assert again.capture.id == captured.capture.id


async def test_capture_of_an_unapproved_order_is_rejected_with_the_issue(paypal_provider):
    order = await _order(paypal_provider)
    with pytest.raises(PaymentRejected) as info:
        await paypal_provider.capture_checkout(order.id, request_id="cap-x")
    assert info.value.issue == "ORDER_NOT_APPROVED"
    assert status_of(info.value) == 409


async def test_capture_5xx_is_a_retryable_problem(paypal_provider, fake_paypal):
    order = await _order(paypal_provider)
    fake_paypal.approve(order.id)
    fake_paypal.fail_next("capture", 503)
    with pytest.raises(UpstreamRetryable) as info:
        await paypal_provider.capture_checkout(order.id, request_id="cap-y")
    assert status_of(info.value) == 503
    assert (await paypal_provider.capture_checkout(order.id, request_id="cap-y")).status == "COMPLETED"


async def test_capture_timeout_is_a_timeout_problem_and_the_retry_replays_the_capture(
        paypal_provider, fake_paypal):
    order = await _order(paypal_provider)
    fake_paypal.approve(order.id)
    fake_paypal.hang_next("capture", seconds=3, after_work=True)
    with pytest.raises(UpstreamTimeout):
        await paypal_provider.capture_checkout(order.id, request_id="cap-z")
    again = await paypal_provider.capture_checkout(order.id, request_id="cap-z")
    assert again.status == "COMPLETED"
    assert len(fake_paypal.orders[order.id]["purchase_units"][0]["payments"]["captures"]) == 1


async def test_unknown_order_is_not_found(paypal_provider):
    with pytest.raises(NotFound):
        await paypal_provider.get_checkout("NOPE")


async def test_subscription_create_get_cancel(paypal_provider, fake_paypal):
    sub = await paypal_provider.start_subscription(
        plan="starter", custom_id="sub_9", return_url="https://r", cancel_url="https://c",
        request_id="s9")
    assert sub.status == "APPROVAL_PENDING" and sub.approve_url and sub.plan_id == "P-STARTER"
    fake_paypal.activate_subscription(sub.id)
    assert (await paypal_provider.get_subscription(sub.id)).status == "ACTIVE"
    await paypal_provider.cancel_subscription(sub.id, reason="user asked")
    await paypal_provider.cancel_subscription(sub.id, reason="twice is fine")
    assert (await paypal_provider.get_subscription(sub.id)).status == "CANCELLED"


async def test_webhook_verification_success_and_failure(paypal_provider, fake_paypal):
    event = {"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {}}
    assert await paypal_provider.verify_webhook(headers=fake_paypal.webhook_headers(event), event=event)
    assert not await paypal_provider.verify_webhook(
        headers=fake_paypal.webhook_headers(event, valid=False), event=event)
    assert not await paypal_provider.verify_webhook(headers={}, event=event)
    fake_paypal.signatures_valid = False
    assert not await paypal_provider.verify_webhook(headers=fake_paypal.webhook_headers(event), event=event)
    verify = [r for r in fake_paypal.requests if r["kind"] == "verify"]
    assert verify[0]["body"]["webhook_id"] == "WH-FAKE-1"
    assert verify[0]["body"]["webhook_event"] == event


async def test_webhook_event_is_forwarded_byte_for_byte_when_the_raw_body_is_given(
        paypal_provider, fake_paypal):
    raw = b'{"id": "WH-2", "event_type": "X", "resource": {"amount": {"value": 4.990}}, "zz": 1, "aa": 2}'
    event = json.loads(raw)
    assert await paypal_provider.verify_webhook(headers=fake_paypal.webhook_headers(event), event=event,
                                                raw_body=raw)
    sent = next(r for r in fake_paypal.requests if r["kind"] == "verify")
    assert sent["raw"].endswith(b'"webhook_event": ' + raw + b"}")
