"""Pure rules of the payments feature: money comparison and PayPal body parsing."""

from __future__ import annotations

import pytest

from providers.paypal import parse_order, parse_subscription
from providers.paypal_events import _money, _related_capture_id
from services.payments.model import same_money


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("4.99", "USD", True), ("4.990", "usd", True), ("4.98", "USD", False),
    ("4.99", "EUR", False), ("", "USD", False), ("abc", "USD", False), (None, None, False),
])
def test_same_money_compares_decimals_and_currency(amount, currency, expected):
    assert same_money(amount, currency, expected="4.99", expected_currency="USD") is expected


USD_499 = {"currency_code": "USD", "value": "4.99"}


def test_parse_order_reads_the_approve_link_custom_id_and_captures():
    order = parse_order({
        "id": "O1", "status": "COMPLETED",
        "links": [{"rel": "self", "href": "x"}, {"rel": "payer-action", "href": "https://pay/O1"}],
        "purchase_units": [{"custom_id": "pay_1", "amount": USD_499, "payments": {
            "captures": [{"id": "C1", "status": "COMPLETED", "amount": USD_499}]}}],
    })
    assert (order.approve_url, order.custom_id, order.amount) == ("https://pay/O1", "pay_1", "4.99")
    assert order.capture.id == "C1" and order.capture.currency == "USD"


def test_parse_minimal_order_and_subscription():
    order = parse_order({"id": "O2", "status": "CREATED"})
    assert order.capture is None and order.approve_url is None
    sub = parse_subscription({"id": "I-1", "status": "ACTIVE", "plan_id": "P-1",
                              "billing_info": {"next_billing_time": "2026-12-01T00:00:00Z"}})
    assert (sub.plan_id, sub.next_billing_time) == ("P-1", "2026-12-01T00:00:00Z")


def test_refund_resources_point_at_their_capture():
    resource = {"links": [{"rel": "self", "href": "https://api/v2/payments/refunds/R1"},
                          {"rel": "up", "href": "https://api/v2/payments/captures/C9"}],
                "amount": {"value": "1.00", "currency_code": "USD"}}
    assert _related_capture_id(resource) == "C9"
    assert _money(resource) == ("1.00", "USD")
    assert _money({"amount": {"total": "9.99", "currency": "USD"}}) == ("9.99", "USD")
