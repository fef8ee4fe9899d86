"""PayPal webhook events: verify through PayPal, claim each event id once, apply.

A delivery PayPal does not vouch for → 400, nothing changes. A replayed event id
→ 200, nothing changes. If applying fails, the claim is released so PayPal's
retry is processed (every handler is itself idempotent: crediting and
reversing are once per ref in the ledger).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

import structlog

from services.errors import FeatureDisabled, InvalidWebhook
from services.payments import PaymentService
from services.payments_model import PaymentDeclined, PaymentFlagged
from services.ports.payments import CaptureInfo, PaymentRejected, PaymentsProvider
from services.subscriptions import SubscriptionService

log = structlog.stdlib.get_logger("muse.paypal_webhooks")

SOURCE = "paypal"
_SUBSCRIPTION_STATUS = {
    "BILLING.SUBSCRIPTION.ACTIVATED": "ACTIVE",
    "BILLING.SUBSCRIPTION.RE-ACTIVATED": "ACTIVE",
    "BILLING.SUBSCRIPTION.CANCELLED": "CANCELLED",
    "BILLING.SUBSCRIPTION.SUSPENDED": "SUSPENDED",
    "BILLING.SUBSCRIPTION.EXPIRED": "EXPIRED",
}
_CAPTURE_LINK = re.compile(r"/v2/payments/captures/([^/?]+)")


class WebhookEvents(Protocol):
    """Claim-once records of webhook deliveries (repositories/webhook_events.py)."""

    async def claim(self, source: str, event_id: str, *, event_type: str | None = None) -> bool: ...

    async def release(self, source: str, event_id: str) -> None: ...


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


class PayPalWebhookService:
    """Applies verified PayPal events exactly once."""

    def __init__(self, provider: PaymentsProvider | None, events: WebhookEvents, payments: PaymentService,
                 subscriptions: SubscriptionService) -> None:
        self._provider, self._events = provider, events
        self._payments, self._subs = payments, subscriptions

    async def receive(self, body: bytes, headers: Mapping[str, str], *, request_id: str | None) -> bool:
        """Verify and apply one delivery; False when the event id was already processed."""
        if self._provider is None:
            raise FeatureDisabled("Payments are not configured.")
        try:
            event = json.loads(body or b"null")
        except ValueError as exc:
            raise InvalidWebhook("The body is not JSON.") from exc
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event.get("event_type"):
            raise InvalidWebhook("Not a PayPal event.")
        if not await self._provider.verify_webhook(headers=headers, event=event, raw_body=body):
            log.warning("paypal_webhook_unverified", event_id=event["id"], event_type=event.get("event_type"))
            raise InvalidWebhook("PayPal did not verify this webhook's signature.")
        if not await self._events.claim(SOURCE, event["id"], event_type=event["event_type"]):
            log.info("paypal_webhook_replay", event_id=event["id"])
            return False
        try:
            await self._apply(event, request_id=request_id)
        except BaseException:
            await self._events.release(SOURCE, event["id"])
            raise
        log.info("paypal_webhook_processed", event_id=event["id"], event_type=event["event_type"])
        return True

    async def _apply(self, event: dict[str, Any], *, request_id: str | None) -> None:
        kind, resource = event["event_type"], event.get("resource") or {}
        if kind in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.PENDING"):
            await self._capture_completed(resource, request_id=request_id)
        elif kind in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
            await self._capture_denied(resource, request_id=request_id)
        elif kind in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
            await self._refunded(resource, request_id=request_id)
        elif kind in _SUBSCRIPTION_STATUS:
            await self._subs.apply_event(
                resource.get("id", ""), _SUBSCRIPTION_STATUS[kind], custom_id=resource.get("custom_id"),
                next_billing_time=(resource.get("billing_info") or {}).get("next_billing_time"))
        elif kind == "PAYMENT.SALE.COMPLETED":
            if resource.get("billing_agreement_id"):
                await self._subs.renewed(resource["billing_agreement_id"])
        else:
            log.info("paypal_webhook_ignored", event_type=kind)

    async def _capture_completed(self, resource: Mapping[str, Any], *, request_id: str | None) -> None:
        order_id = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id")
        payment = await self._payments.find_for_capture(
            custom_id=resource.get("custom_id"), order_id=order_id, capture_id=resource.get("id"))
        if payment is None:
            log.info("paypal_capture_unknown", capture_id=resource.get("id"))
            return
        value, currency = _money(resource)
        capture = CaptureInfo(id=resource.get("id", ""), status=resource.get("status", "COMPLETED"),
                              amount=value, currency=currency, custom_id=resource.get("custom_id"))
        try:
            await self._payments.apply_capture(payment, capture, request_id=request_id)
        except (PaymentFlagged, PaymentRejected, PaymentDeclined) as exc:  # recorded; PayPal needs no retry
            log.warning("paypal_capture_not_credited", payment_id=payment.id, code=exc.code)

    async def _capture_denied(self, resource: Mapping[str, Any], *, request_id: str | None) -> None:
        order_id = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id")
        payment = await self._payments.find_for_capture(
            custom_id=resource.get("custom_id"), order_id=order_id, capture_id=resource.get("id"))
        if payment is None:
            log.info("paypal_capture_unknown", capture_id=resource.get("id"))
            return
        await self._payments.apply_denial(payment, capture_id=resource.get("id"), request_id=request_id)

    async def _refunded(self, resource: Mapping[str, Any], *, request_id: str | None) -> None:
        capture_id = _related_capture_id(resource)
        payment = await self._payments.find_for_capture(
            custom_id=resource.get("custom_id"), order_id=None, capture_id=capture_id)
        if payment is None:
            log.info("paypal_refund_unknown", refund_id=resource.get("id"), capture_id=capture_id)
            return
        value, currency = _money(resource)
        reversed_credits = await self._payments.apply_refund(
            payment, refund_id=resource.get("id", capture_id or ""), amount=value, currency=currency,
            request_id=request_id)
        log.info("paypal_refund_applied", payment_id=payment.id, credits=reversed_credits)
