"""Stripe objects and webhook events → the neutral types of `services.payments.ports`.

Amounts: Stripe counts in the currency's minor unit (cents); Muse in decimal strings ("4.99").
Which Muse record an object belongs to: `client_reference_id` of a Checkout Session, the
`payment_id` / `subscription_id` metadata copied onto the PaymentIntent and Subscription.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from services.payments.ports import (
    CaptureCompleted,
    CaptureDenied,
    CaptureInfo,
    CaptureRefunded,
    Checkout,
    PaymentEvent,
    SubscriptionChanged,
    SubscriptionInfo,
    SubscriptionRenewed,
)

# Currencies without a minor unit (Stripe's list, the ones a catalogue may plausibly use).
ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                          "vuv", "xaf", "xof", "xpf"})
# Stripe subscription status → Muse's (PayPal's words). incomplete: not paid yet, nothing to change.
SUBSCRIPTION_STATUS = {
    "active": "ACTIVE", "trialing": "ACTIVE", "past_due": "SUSPENDED", "unpaid": "SUSPENDED",
    "paused": "SUSPENDED", "canceled": "CANCELLED", "incomplete_expired": "EXPIRED",
}


def to_minor(amount: str, currency: str) -> int:
    """"4.99" USD → 499; "500" JPY → 500."""
    value = Decimal(amount)
    return int(value if currency.lower() in ZERO_DECIMAL else value * 100)


def from_minor(amount: Any, currency: str | None) -> str:
    """499 USD → "4.99"."""
    value = Decimal(int(amount or 0))
    return str(value if (currency or "").lower() in ZERO_DECIMAL else (value / 100).quantize(Decimal("0.01")))


def _id(value: Any) -> str | None:
    """An id field that may be expanded into its object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value) if value else None


def _iso(timestamp: Any) -> str | None:
    return datetime.fromtimestamp(int(timestamp), UTC).isoformat() if timestamp else None


def parse_session(session: Mapping[str, Any]) -> Checkout:
    """A Checkout Session → Checkout. Paid → COMPLETED with its PaymentIntent as the capture;
    complete but unpaid (a delayed payment method) → PENDING; open → CREATED; expired → EXPIRED."""
    currency = str(session.get("currency") or "").upper()
    amount = from_minor(session.get("amount_total"), currency)
    custom_id = session.get("client_reference_id") or (session.get("metadata") or {}).get("payment_id")
    status, paid = session.get("status"), session.get("payment_status") in ("paid", "no_payment_required")
    captures: tuple[CaptureInfo, ...] = ()
    if status == "complete":
        capture_id = _id(session.get("payment_intent")) or str(session["id"])
        captures = (CaptureInfo(id=capture_id, status="COMPLETED" if paid else "PENDING", amount=amount,
                                currency=currency, custom_id=custom_id),)
    mapped = {"complete": "COMPLETED" if paid else "PENDING", "expired": "EXPIRED"}.get(
        str(status), "CREATED")
    return Checkout(id=str(session["id"]), status=mapped, approve_url=session.get("url"), custom_id=custom_id,
                    amount=amount, currency=currency, captures=captures)


def _period_end(sub: Mapping[str, Any]) -> str | None:
    end = sub.get("current_period_end")
    if end is None:  # newer API versions keep the period on the items
        items = ((sub.get("items") or {}).get("data")) or [{}]
        end = items[0].get("current_period_end") if isinstance(items[0], Mapping) else None
    return _iso(end)


def _price_id(sub: Mapping[str, Any]) -> str | None:
    items = ((sub.get("items") or {}).get("data")) or [{}]
    price = items[0].get("price") if isinstance(items[0], Mapping) else None
    return _id(price)


def parse_subscription(sub: Mapping[str, Any]) -> SubscriptionInfo:
    """A Stripe Subscription → SubscriptionInfo."""
    status = SUBSCRIPTION_STATUS.get(str(sub.get("status")), "APPROVAL_PENDING")
    return SubscriptionInfo(id=str(sub["id"]), status=status, plan_id=_price_id(sub),
                            custom_id=(sub.get("metadata") or {}).get("subscription_id"),
                            next_billing_time=_period_end(sub), raw=dict(sub))


def _session_event(kind: str, session: Mapping[str, Any]) -> PaymentEvent | None:
    if session.get("mode") == "subscription":
        if kind != "checkout.session.completed" or not session.get("subscription"):
            return None
        return SubscriptionChanged(str(_id(session["subscription"])), "ACTIVE",
                                   custom_id=session.get("client_reference_id"))
    checkout = parse_session(session)
    if kind == "checkout.session.async_payment_failed":
        return CaptureDenied(_id(session.get("payment_intent")), checkout_id=checkout.id,
                             custom_id=checkout.custom_id)
    if checkout.capture is None:
        return None
    return CaptureCompleted(checkout.capture, checkout_id=checkout.id)


def _refund(charge: Mapping[str, Any]) -> CaptureRefunded:
    currency = str(charge.get("currency") or "").upper()
    refunds = [r for r in ((charge.get("refunds") or {}).get("data") or []) if isinstance(r, Mapping)]
    custom_id = (charge.get("metadata") or {}).get("payment_id")
    capture_id = _id(charge.get("payment_intent"))
    if refunds:  # the newest refund is first; each is reversed once by its id
        newest = refunds[0]
        return CaptureRefunded(refund_id=str(newest["id"]), capture_id=capture_id,
                               amount=from_minor(newest.get("amount"), currency), currency=currency,
                               custom_id=custom_id)
    refunded = charge.get("amount_refunded")
    return CaptureRefunded(refund_id=f"{charge.get('id')}:{refunded}", capture_id=capture_id,
                           amount=from_minor(refunded, currency), currency=currency, custom_id=custom_id)


def _dispute(dispute: Mapping[str, Any]) -> CaptureRefunded:
    currency = str(dispute.get("currency") or "").upper()
    return CaptureRefunded(refund_id=str(dispute["id"]), capture_id=_id(dispute.get("payment_intent")),
                           amount=from_minor(dispute.get("amount"), currency), currency=currency,
                           custom_id=(dispute.get("metadata") or {}).get("payment_id"))


def _invoice_subscription(invoice: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The subscription id of an invoice and our id from its metadata (old and new API shapes)."""
    details = ((invoice.get("parent") or {}).get("subscription_details")
               or invoice.get("subscription_details") or {})
    sub_id = _id(invoice.get("subscription")) or _id(details.get("subscription"))
    return sub_id, (details.get("metadata") or {}).get("subscription_id")


def translate(event: Mapping[str, Any]) -> PaymentEvent | None:
    """The neutral event of one Stripe event (None: a type Muse does not act on)."""
    kind, obj = str(event.get("type")), (event.get("data") or {}).get("object") or {}
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded",
                "checkout.session.async_payment_failed"):
        return _session_event(kind, obj)
    if kind == "charge.refunded":
        return _refund(obj)
    if kind == "charge.dispute.created":
        return _dispute(obj)
    if kind in ("customer.subscription.updated", "customer.subscription.deleted",
                "customer.subscription.created"):
        status = "CANCELLED" if kind.endswith(".deleted") else SUBSCRIPTION_STATUS.get(str(obj.get("status")))
        if status is None:
            return None
        return SubscriptionChanged(str(obj["id"]), status, custom_id=(obj.get("metadata") or {}).get(
            "subscription_id"), next_billing_time=_period_end(obj))
    if kind == "invoice.paid":
        sub_id, custom_id = _invoice_subscription(obj)
        return SubscriptionRenewed(sub_id, custom_id=custom_id) if sub_id else None
    return None
