"""PayPal webhook events → the neutral payment events of `services.payments.ports`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from services.payments.ports import (
    CaptureCompleted,
    CaptureDenied,
    CaptureInfo,
    CaptureRefunded,
    PaymentEvent,
    SubscriptionChanged,
    SubscriptionRenewed,
)

SUBSCRIPTION_STATUS = {
    "BILLING.SUBSCRIPTION.ACTIVATED": "ACTIVE",
    "BILLING.SUBSCRIPTION.RE-ACTIVATED": "ACTIVE",
    "BILLING.SUBSCRIPTION.CANCELLED": "CANCELLED",
    "BILLING.SUBSCRIPTION.SUSPENDED": "SUSPENDED",
    "BILLING.SUBSCRIPTION.EXPIRED": "EXPIRED",
}
_CAPTURE_LINK = re.compile(r"/v2/payments/captures/([^/?]+)")


def _money(resource: Mapping[str, Any]) -> tuple[str, str]:
    amount = resource.get("amount") or {}
    return str(amount.get("value", amount.get("total", ""))), str(amount.get("currency_code",
                                                                          amount.get("currency", "")))


def _related_capture_id(resource: Mapping[str, Any]) -> str | None:
    for link in resource.get("links") or []:
        match = _CAPTURE_LINK.search(link.get("href", ""))
        if match and link.get("rel") == "up":
            return match.group(1)
    return None


def _order_id(resource: Mapping[str, Any]) -> str | None:
    order_id = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id")
    return str(order_id) if order_id else None


def translate(event: Mapping[str, Any]) -> PaymentEvent | None:
    """The neutral event of one PayPal event (None: an event type Muse does not act on)."""
    kind, resource = event["event_type"], event.get("resource") or {}
    if kind in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.PENDING"):
        value, currency = _money(resource)
        capture = CaptureInfo(id=resource.get("id", ""), status=resource.get("status", "COMPLETED"),
                              amount=value, currency=currency, custom_id=resource.get("custom_id"))
        return CaptureCompleted(capture, checkout_id=_order_id(resource))
    if kind in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
        return CaptureDenied(resource.get("id"), checkout_id=_order_id(resource),
                             custom_id=resource.get("custom_id"))
    if kind in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
        capture_id = _related_capture_id(resource)
        value, currency = _money(resource)
        return CaptureRefunded(refund_id=resource.get("id", capture_id or ""), capture_id=capture_id,
                               amount=value, currency=currency, custom_id=resource.get("custom_id"))
    if kind in SUBSCRIPTION_STATUS:
        return SubscriptionChanged(
            resource.get("id", ""), SUBSCRIPTION_STATUS[kind], custom_id=resource.get("custom_id"),
            next_billing_time=(resource.get("billing_info") or {}).get("next_billing_time"))
    if kind == "PAYMENT.SALE.COMPLETED" and resource.get("billing_agreement_id"):
        return SubscriptionRenewed(resource["billing_agreement_id"])
    return None
