"""Re-check payments left open (no return, no webhook) against their processor and settle them.

Run by the `reconcile_payments` cron. Each open payment (CREATED/APPROVED/PENDING)
older than `older_than_s` is looked up at the processor it was made with (PayPal order,
Stripe Checkout Session), least recently checked first, at most `batch` per run:

- a capture on the order (COMPLETED, PENDING or DENIED) → `PaymentService.apply_capture`,
  the same exactly-once step as the return, the mobile capture and the webhook;
- APPROVED and not captured → `PaymentService.capture` (same `capture-<id>` PayPal-Request-Id,
  so racing a late return never captures twice);
- VOIDED/EXPIRED or unknown to PayPal, or still unapproved after `expire_after_s` → EXPIRED.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from services.payments.model import OPEN, Payment
from services.payments.ports import PaymentRepository
from services.payments.service import PaymentService
from services.platform.clock import utcnow
from services.platform.errors import AppError, NotFound

log = structlog.stdlib.get_logger("muse.payments_reconcile")

_GONE = ("VOIDED", "EXPIRED")


class PaymentReconciler:
    """Settles payments whose buyer never came back and whose webhook never arrived."""

    def __init__(self, payments: PaymentRepository, service: PaymentService, *, older_than_s: float,
                 expire_after_s: float, batch: int) -> None:
        self._payments, self._service = payments, service
        self._older_than_s, self._expire_after_s, self._batch = older_than_s, expire_after_s, batch

    async def run(self, *, request_id: str | None = None) -> dict[str, Any]:
        """Re-check one batch of open payments; counts per outcome."""
        counts = {"checked": 0, "completed": 0, "pending": 0, "denied": 0, "expired": 0, "open": 0,
                  "flagged": 0, "errors": 0}
        if not self._service.enabled:
            return {**counts, "skipped": True}
        cutoff = utcnow() - timedelta(seconds=self._older_than_s)
        for payment in await self._payments.list_open(statuses=OPEN, created_before=cutoff,
                                                      limit=self._batch):
            counts["checked"] += 1
            await self._payments.mark_reconciled(payment.id)
            try:
                outcome = await self.reconcile(payment, request_id=request_id)
            except AppError as exc:  # PayPal down or refusing: the next run tries again
                log.warning("payment_reconcile_failed", payment_id=payment.id, code=exc.code)
                outcome = {"payment_declined": "denied", "payment_flagged": "flagged"}.get(exc.code, "errors")
            counts[outcome] += 1
        log.info("payments_reconciled", **counts)
        return counts

    async def reconcile(self, payment: Payment, *, request_id: str | None) -> str:
        """Settle one open payment from PayPal's view of its order; the outcome's name."""
        age = utcnow() - payment.created_at
        stale = age > timedelta(seconds=self._expire_after_s)
        if payment.external_id is None:
            return await self._expire(payment, "no_order") if stale else "open"
        provider = self._service.providers.find(payment.provider)
        if provider is None:  # its processor is no longer configured: nothing to ask
            return "open"
        try:
            order = await provider.get_checkout(payment.external_id)
        except NotFound:
            return await self._expire(payment, "order_unknown")
        if order.capture is not None:
            settled = await self._service.apply_capture(payment, order.capture, request_id=request_id)
        elif order.status == "APPROVED":
            settled = await self._service.capture(payment, request_id=request_id)
        elif order.status in _GONE or stale:
            return await self._expire(payment, f"order_{order.status.lower()}")
        else:
            return "open"
        if settled.status == "PENDING":
            return "pending"
        log.info("payment_reconciled", payment_id=payment.id, status=settled.status)
        return "completed" if settled.credited else "open"

    async def _expire(self, payment: Payment, reason: str) -> str:
        moved = await self._payments.update(payment.id, {"status": "EXPIRED"},
                                            only_if_status=("CREATED", "APPROVED"))
        if moved is None:
            return "open"
        log.info("payment_expired", payment_id=payment.id, reason=reason)
        return "expired"
