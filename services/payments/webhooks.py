"""Payment webhook events: verified and translated by the processor's adapter, claimed once, applied.

A delivery the processor does not vouch for → 400, nothing changes. A replayed
event id → 200, nothing changes. If applying fails, the claim is released so
the processor's retry is processed (every handler is itself idempotent:
crediting and reversing are once per ref in the ledger). Events are the neutral
ones of `services.payments.ports`: no processor's JSON reaches this module, and
PayPal's and Stripe's events end in the same steps.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from services.payments.model import CAPTURABLE, PaymentDeclined, PaymentFlagged
from services.payments.ports import (
    CaptureCompleted,
    CaptureDenied,
    CaptureRefunded,
    PaymentEvent,
    PaymentRejected,
    PaymentsProvider,
    SubscriptionChanged,
    SubscriptionRenewed,
)
from services.payments.service import PaymentService
from services.payments.subscriptions import SubscriptionService
from services.platform.errors import Conflict, FeatureDisabled
from services.platform.ports.webhooks import ProcessedEvents

log = structlog.stdlib.get_logger("muse.payment_webhooks")


class PaymentWebhookService:
    """Applies a processor's verified events exactly once (the claim's source is the processor's name)."""

    def __init__(self, provider: PaymentsProvider | None, events: ProcessedEvents, payments: PaymentService,
                 subscriptions: SubscriptionService) -> None:
        self._provider, self._events = provider, events
        self._payments, self._subs = payments, subscriptions

    async def receive(self, body: bytes, headers: Mapping[str, str], *, request_id: str | None) -> bool:
        """Verify and apply one delivery; False when the event id was already processed."""
        if self._provider is None:
            raise FeatureDisabled("Payments are not configured.")
        source = self._provider.name
        delivery = await self._provider.read_webhook(headers=headers, body=body)
        if not await self._events.claim(source, delivery.event_id, event_type=delivery.event_type):
            log.info("payment_webhook_replay", provider=source, event_id=delivery.event_id)
            return False
        try:
            if delivery.event is None:
                log.info("payment_webhook_ignored", provider=source, event_type=delivery.event_type)
            else:
                await self._apply(source, delivery.event, request_id=request_id)
        except BaseException:
            await self._events.release(source, delivery.event_id)
            raise
        log.info("payment_webhook_processed", provider=source, event_id=delivery.event_id,
                 event_type=delivery.event_type)
        return True

    async def _apply(self, source: str, event: PaymentEvent, *, request_id: str | None) -> None:
        if isinstance(event, CaptureCompleted):
            await self._capture_completed(source, event, request_id=request_id)
        elif isinstance(event, CaptureDenied):
            payment = await self._payments.find_for_capture(
                provider=source, custom_id=event.custom_id, order_id=event.checkout_id,
                capture_id=event.capture_id)
            if payment is None:
                log.info("payment_capture_unknown", capture_id=event.capture_id)
                return
            await self._payments.apply_denial(payment, capture_id=event.capture_id, request_id=request_id)
        elif isinstance(event, CaptureRefunded):
            await self._refunded(source, event, request_id=request_id)
        elif isinstance(event, SubscriptionChanged):
            await self._subs.apply_event(event.external_id, event.status, provider=source,
                                         custom_id=event.custom_id, next_billing_time=event.next_billing_time)
        elif isinstance(event, SubscriptionRenewed):
            await self._subs.renewed(event.external_id, provider=source, custom_id=event.custom_id)

    async def _capture_completed(self, source: str, event: CaptureCompleted, *,
                                 request_id: str | None) -> None:
        capture = event.capture
        payment = await self._payments.find_for_capture(
            provider=source, custom_id=capture.custom_id, order_id=event.checkout_id,
            capture_id=capture.id or None)
        if payment is None:
            log.info("payment_capture_unknown", capture_id=capture.id)
            return
        try:
            await self._payments.apply_capture(payment, capture, request_id=request_id)
        except (PaymentFlagged, PaymentRejected, PaymentDeclined) as exc:  # recorded; no retry needed
            log.warning("payment_capture_not_credited", payment_id=payment.id, code=exc.code)

    async def _refunded(self, source: str, event: CaptureRefunded, *, request_id: str | None) -> None:
        payment = await self._payments.find_for_capture(
            provider=source, custom_id=event.custom_id, order_id=None, capture_id=event.capture_id)
        if payment is None:
            log.info("payment_refund_unknown", refund_id=event.refund_id, capture_id=event.capture_id)
            return
        if payment.status in CAPTURABLE:  # the capture's event is late: let the processor retry this one
            raise Conflict("This payment's capture is not recorded yet; the refund is retried later.",
                           payment_id=payment.id)
        reversed_credits = await self._payments.apply_refund(
            payment, refund_id=event.refund_id, amount=event.amount, currency=event.currency,
            request_id=request_id)
        log.info("payment_refund_applied", payment_id=payment.id, credits=reversed_credits)
