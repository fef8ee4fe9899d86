"""Pure translation of Stripe objects and events into the payments port's neutral types."""

from __future__ import annotations

import pytest

from app.config import Settings
from providers.stripe.events import from_minor, parse_session, to_minor, translate
from services.payments.ports import (
    CaptureCompleted,
    CaptureDenied,
    CaptureRefunded,
    SubscriptionChanged,
    SubscriptionRenewed,
)


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("4.99", "USD", 499), ("19.99", "usd", 1999), ("0.10", "EUR", 10), ("500", "JPY", 500)])
def test_amounts_go_to_minor_units_and_back_without_rounding(amount, currency, minor):
    assert to_minor(amount, currency) == minor
    assert from_minor(minor, currency) == (amount if currency.upper() != "EUR" else "0.10")


def _session(**fields):
    return {"id": "cs_1", "object": "checkout.session", "mode": "payment", "status": "open",
            "payment_status": "unpaid", "amount_total": 499, "currency": "usd",
            "client_reference_id": "pay_1",
            "payment_intent": None, "url": "https://checkout/cs_1", **fields}


def test_sessions_map_to_checkouts_by_status_and_payment_status():
    assert parse_session(_session()).status == "CREATED" and parse_session(_session()).capture is None
    paid = parse_session(_session(status="complete", payment_status="paid", payment_intent="pi_1"))
    assert paid.status == "COMPLETED"
    assert (paid.capture.id, paid.capture.status, paid.capture.amount, paid.capture.currency,
            paid.capture.custom_id) == ("pi_1", "COMPLETED", "4.99", "USD", "pay_1")
    delayed = parse_session(_session(status="complete", payment_status="unpaid", payment_intent="pi_2"))
    assert delayed.status == "PENDING" and delayed.capture.status == "PENDING"
    assert parse_session(_session(status="expired")).status == "EXPIRED"


def _event(kind, obj):
    return {"id": "evt_1", "type": kind, "data": {"object": obj}}


def test_checkout_events_credit_deny_or_start_a_subscription():
    done = translate(_event("checkout.session.completed",
                            _session(status="complete", payment_status="paid", payment_intent="pi_1")))
    assert isinstance(done, CaptureCompleted) and done.checkout_id == "cs_1"
    failed = translate(_event("checkout.session.async_payment_failed",
                              _session(status="complete", payment_intent="pi_1")))
    assert isinstance(failed, CaptureDenied) and failed.custom_id == "pay_1"
    sub = translate(_event("checkout.session.completed", _session(
        mode="subscription", status="complete", payment_status="paid", subscription="sub_1",
        client_reference_id="sub_ours")))
    assert sub == SubscriptionChanged("sub_1", "ACTIVE", custom_id="sub_ours")
    assert translate(_event("checkout.session.expired", _session(status="expired"))) is None


def test_refunds_and_disputes_become_reversals_by_their_own_id():
    charge = {"id": "ch_1", "payment_intent": "pi_1", "currency": "usd", "amount": 1999,
              "amount_refunded": 1500,
              "refunds": {"data": [{"id": "re_2", "amount": 1000}, {"id": "re_1", "amount": 500}]}}
    refund = translate(_event("charge.refunded", charge))
    assert refund == CaptureRefunded(refund_id="re_2", capture_id="pi_1", amount="10.00", currency="USD")
    bare = translate(_event("charge.refunded", {**charge, "refunds": None}))
    assert bare.refund_id == "ch_1:1500" and bare.amount == "15.00"
    dispute = translate(_event("charge.dispute.created", {
        "id": "dp_1", "charge": "ch_1", "payment_intent": "pi_1", "amount": 1999, "currency": "usd"}))
    assert dispute == CaptureRefunded(refund_id="dp_1", capture_id="pi_1", amount="19.99", currency="USD")


@pytest.mark.parametrize(("status", "expected"), [
    ("active", "ACTIVE"), ("trialing", "ACTIVE"), ("past_due", "SUSPENDED"), ("unpaid", "SUSPENDED"),
    ("canceled", "CANCELLED"), ("incomplete_expired", "EXPIRED"), ("incomplete", None)])
def test_subscription_statuses_map_to_muses(status, expected):
    event = translate(_event("customer.subscription.updated", {
        "id": "sub_1", "status": status, "metadata": {"subscription_id": "sub_ours"},
        "items": {"data": [{"current_period_end": 1767225600}]}}))
    if expected is None:
        assert event is None
    else:
        assert event == SubscriptionChanged("sub_1", expected, custom_id="sub_ours",
                                            next_billing_time="2026-01-01T00:00:00+00:00")
    deleted = translate(_event("customer.subscription.deleted", {"id": "sub_1", "status": status}))
    assert deleted.status == "CANCELLED"


def test_invoice_paid_is_a_renewal_in_old_and_new_api_shapes():
    details = {"subscription": "sub_1", "metadata": {"subscription_id": "s"}}
    new = {"parent": {"subscription_details": details}}
    assert translate(_event("invoice.paid", new)) == SubscriptionRenewed("sub_1", custom_id="s")
    assert translate(_event("invoice.paid", {"subscription": "sub_2"})) == SubscriptionRenewed("sub_2")
    assert translate(_event("invoice.paid", {"customer": "cus_1"})) is None  # a one-off invoice


def test_production_refuses_a_stripe_key_without_a_webhook_secret():
    settings = Settings(_env_file=None, app_env="production", stripe_secret_key="sk_live_x")  # type: ignore[call-arg]
    assert "STRIPE_WEBHOOK_SECRET" in settings.missing_for_production()
    settings = Settings(_env_file=None, app_env="production", stripe_secret_key="sk_live_x",  # type: ignore[call-arg]
                        stripe_webhook_secret="whsec_x")
    assert "STRIPE_WEBHOOK_SECRET" not in settings.missing_for_production()
