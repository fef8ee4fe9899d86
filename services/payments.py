"""Credit-pack purchases through PayPal: checkout, capture (return, mobile, webhook), refunds.

Exactly-once crediting does not depend on who captures first: every path
(web return, mobile capture, PAYMENT.CAPTURE.COMPLETED webhook) ends in
`apply_capture`, which moves the payment to COMPLETED with one conditional
update and then calls `credits.purchase(ref=payment_id)`, which the ledger
applies once per ref. PayPal itself captures once: every capture of a
payment carries the same PayPal-Request-Id (`capture-<payment id>`), so
concurrent or retried captures get PayPal's first answer back.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from urllib.parse import urlencode

import structlog

from services.catalog import Catalog
from services.clock import utcnow
from services.errors import AppError, Conflict, FeatureDisabled, NotFound
from services.ids import new_id
from services.payments_model import (
    CAPTURABLE,
    DENIED_CAPTURE,
    SETTLED,
    Payment,
    PaymentDeclined,
    PaymentFlagged,
    Refund,
    same_money,
)
from services.ports.credits import Credits
from services.ports.payments import CaptureInfo, PaymentRejected, PaymentRepository, PaymentsProvider

log = structlog.stdlib.get_logger("muse.payments")


def _with_query(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _declined(payment: Payment) -> PaymentDeclined:
    return PaymentDeclined("PayPal declined this payment; start a new checkout.", payment_id=payment.id)


class PaymentService:
    """Checkout, capture and refund of credit packs."""

    def __init__(
        self, payments: PaymentRepository, provider: PaymentsProvider | None, catalog: Catalog,
        credits: Credits, *, return_url: str, cancel_url: str, success_redirect: str, cancel_redirect: str,
    ) -> None:
        self._payments, self._provider, self._catalog, self._credits = payments, provider, catalog, credits
        self._provider_name = provider.name if provider is not None else ""
        self._return_url, self._cancel_url = return_url, cancel_url
        self._success, self._cancelled = success_redirect, cancel_redirect

    @property
    def provider(self) -> PaymentsProvider:
        """The payments provider; 503 when PayPal is not configured."""
        if self._provider is None:
            raise FeatureDisabled("Payments are not configured.")
        return self._provider

    @property
    def enabled(self) -> bool:
        """Whether PayPal is configured."""
        return self._provider is not None

    async def checkout(self, user_id: str, pack_name: str, *, request_id: str | None) -> Payment:
        """Create a payment and its PayPal order for a catalogue pack (price never from the client)."""
        provider = self.provider
        pack = self._catalog.pack(pack_name)
        now = utcnow()
        payment = await self._payments.create(Payment(
            id=new_id("pay"), user_id=user_id, pack=pack.name, credits=pack.credits, amount=pack.price,
            currency=pack.currency, request_id=request_id, created_at=now, updated_at=now))
        try:
            order = await provider.create_checkout(
                payment_id=payment.id, amount=pack.price, currency=pack.currency,
                description=f"Muse {pack.credits} credits", return_url=self._return_url,
                cancel_url=self._cancel_url, request_id=f"create-{payment.id}")
        except Exception:
            await self._payments.update(payment.id, {"status": "FAILED"})
            raise
        updated = await self._payments.update(
            payment.id, {"provider": provider.name, "external_id": order.id,
                         "approve_url": order.approve_url})
        log.info("payment_created", payment_id=payment.id, external_id=order.id, pack=pack.name)
        return updated or payment

    async def get_for_user(self, payment_id: str, user_id: str) -> Payment:
        """A payment of this user; 404 otherwise (also for another user's)."""
        payment = await self._payments.get(payment_id)
        if payment is None or payment.user_id != user_id:
            raise NotFound("No such payment.")
        return payment

    async def history(self, user_id: str, *, limit: int, cursor: str | None) -> list[Payment]:
        """The user's payments, newest first."""
        return await self._payments.list_for_user(user_id, limit=limit, cursor=cursor)

    async def capture(self, payment: Payment, *, request_id: str | None) -> Payment:
        """Capture the payment's order at PayPal (safe to repeat) and credit it once."""
        if payment.status in SETTLED:
            return await self._ensure_credited(payment, request_id=request_id)
        if payment.status == "FLAGGED":
            raise PaymentFlagged("This payment is held for review.", payment_id=payment.id)
        if payment.status == "DENIED":
            raise _declined(payment)
        if payment.external_id is None:
            raise PaymentRejected("This payment has no PayPal order.", issue="NO_ORDER")
        provider = self.provider
        if payment.status == "PENDING":  # a capture replay would repeat PENDING: ask for the order now
            order = await provider.get_checkout(payment.external_id)
        else:
            try:
                order = await provider.capture_checkout(payment.external_id,
                                                        request_id=f"capture-{payment.id}")
            except PaymentRejected as exc:
                if exc.issue != "ORDER_ALREADY_CAPTURED":
                    raise
                order = await provider.get_checkout(payment.external_id)
        if order.capture is None:
            raise PaymentRejected("PayPal reported no capture for this order.", issue="NO_CAPTURE")
        return await self.apply_capture(payment, order.capture, request_id=request_id)

    async def apply_capture(self, payment: Payment, capture: CaptureInfo, *,
                            request_id: str | None) -> Payment:
        """Record a capture PayPal reported (by API or webhook) and credit the pack once if it matches."""
        if payment.status in SETTLED:
            return await self._ensure_credited(payment, request_id=request_id)
        declined = _declined(payment)
        if payment.status == "DENIED":
            raise declined
        fields = {"external_capture_id": capture.id, "captured_amount": capture.amount,
                  "captured_currency": capture.currency}
        if capture.status.upper() in DENIED_CAPTURE:
            await self._payments.update(payment.id, {**fields, "status": "DENIED"}, only_if_status=CAPTURABLE)
            log.warning("payment_denied", payment_id=payment.id, capture_status=capture.status)
            raise declined
        if not same_money(capture.amount, capture.currency, expected=payment.amount,
                          expected_currency=payment.currency):
            await self._payments.update(
                payment.id, {**fields, "status": "FLAGGED", "flag_reason": "amount_mismatch"},
                only_if_status=CAPTURABLE)
            log.warning("payment_flagged", payment_id=payment.id,
                        expected=f"{payment.amount} {payment.currency}",
                        captured=f"{capture.amount} {capture.currency}")
            raise PaymentFlagged(
                "The captured amount does not match the pack; the payment is held for review.",
                payment_id=payment.id)
        if capture.status == "PENDING":
            updated = await self._payments.update(payment.id, {**fields, "status": "PENDING"},
                                                  only_if_status=CAPTURABLE)
            return updated or await self._reload(payment)
        if capture.status != "COMPLETED":
            await self._payments.update(payment.id, {**fields, "status": "FAILED"}, only_if_status=CAPTURABLE)
            raise PaymentRejected(f"PayPal reported the capture as {capture.status}.", issue=capture.status)
        moved = await self._payments.update(
            payment.id, {**fields, "status": "COMPLETED", "completed_at": utcnow()},
            only_if_status=CAPTURABLE)
        current = moved or await self._reload(payment)
        if current.status == "FLAGGED":
            raise PaymentFlagged("This payment is held for review.", payment_id=payment.id)
        if current.status == "DENIED":  # a denial got in first: PayPal's denial wins, nothing credited
            raise declined
        return await self._ensure_credited(current, request_id=request_id)

    async def apply_denial(self, payment: Payment, *, capture_id: str | None,
                           request_id: str | None) -> Payment:
        """PayPal denied/declined the capture: mark DENIED; credits already given are reversed once."""
        if payment.status in SETTLED:
            if payment.external_capture_id and capture_id and payment.external_capture_id != capture_id:
                log.warning("payment_denial_other_capture", payment_id=payment.id, capture_id=capture_id)
                return payment
            await self.apply_refund(payment, refund_id=f"denied-{capture_id or payment.external_capture_id}",
                                    amount=payment.amount, currency=payment.currency, request_id=request_id)
            moved = await self._payments.update(payment.id, {"status": "DENIED"}, only_if_status=SETTLED)
        else:
            fields = {"status": "DENIED", **({"external_capture_id": capture_id} if capture_id else {})}
            moved = await self._payments.update(payment.id, fields, only_if_status=(*CAPTURABLE, "DENIED"))
            if moved is None and (current := await self._reload(payment)).status in SETTLED:
                return await self.apply_denial(current, capture_id=capture_id, request_id=request_id)
        log.warning("payment_denied", payment_id=payment.id, capture_id=capture_id)
        return moved or await self._reload(payment)

    async def _reload(self, payment: Payment) -> Payment:
        return await self._payments.get(payment.id) or payment

    async def _ensure_credited(self, payment: Payment, *, request_id: str | None) -> Payment:
        if payment.credited or payment.status not in SETTLED:
            return payment
        added = await self._credits.purchase(payment.user_id, payment.credits, ref=payment.id,
                                             request_id=request_id)
        await self._payments.mark_credited(payment.id)
        if added:
            log.info("payment_credited", payment_id=payment.id, credits=payment.credits)
        return payment.model_copy(update={"credited": True})

    async def return_redirect(self, order_id: str | None, *, request_id: str | None) -> str:
        """Handle PayPal's return: capture and credit, then where to send the browser."""
        payment = await self._payments.get_by_external_id(self._provider_name, order_id) if order_id else None
        if payment is None:
            return self._cancelled
        try:
            payment = await self.capture(payment, request_id=request_id)
        except AppError as exc:  # a browser cannot read a problem body; the client may retry the capture
            log.info("payment_return_failed", payment_id=payment.id, code=exc.code)
            return _with_query(self._cancelled, payment_id=payment.id, error=exc.code)
        if payment.status == "PENDING":  # PayPal holds the money; credited when it completes
            return _with_query(self._success, payment_id=payment.id, status="pending")
        return _with_query(self._success, payment_id=payment.id)

    async def cancel_redirect(self, order_id: str | None) -> str:
        """The buyer cancelled at PayPal: mark it (if still open) and where to send the browser."""
        payment = await self._payments.get_by_external_id(self._provider_name, order_id) if order_id else None
        if payment is None:
            return self._cancelled
        await self._payments.update(payment.id, {"status": "CANCELLED"}, only_if_status=("CREATED",))
        return _with_query(self._cancelled, payment_id=payment.id)

    async def find_for_capture(self, *, custom_id: str | None, order_id: str | None,
                               capture_id: str | None) -> Payment | None:
        """The payment a PayPal capture or refund belongs to."""
        async def by_capture(key: str) -> Payment | None:
            return await self._payments.get_by_external_capture(self._provider_name, key)

        async def by_checkout(key: str) -> Payment | None:
            return await self._payments.get_by_external_id(self._provider_name, key)

        lookups = ((by_capture, capture_id), (self._payments.get, custom_id), (by_checkout, order_id))
        for lookup, key in lookups:
            if key:
                found = await lookup(key)
                if found is not None:
                    return found
        return None

    async def apply_refund(self, payment: Payment, *, refund_id: str, amount: str, currency: str,
                           request_id: str | None) -> int:
        """Reverse the credits of a (partial) refund once per refund id; returns the credits reversed."""
        if payment.status in SETTLED and not payment.credited:  # finish an interrupted crediting first
            payment = await self._ensure_credited(payment, request_id=request_id)
        refund = await self._record_refund(payment, refund_id=refund_id, amount=amount, currency=currency)
        if refund.credits > 0:
            ref = f"{payment.id}:{refund_id}"
            await self._credits.reverse(payment.user_id, refund.credits, ref=ref, reason="paypal_refund",
                                        request_id=request_id)
            balance = int((await self._credits.summary(payment.user_id, plan=None)).get("balance", 0))
            if balance < 0:
                await self._payments.flag_account(payment.user_id, reason="negative_balance_after_refund",
                                                  balance=balance, ref=ref)
                log.warning("account_flagged", user_id=payment.user_id, balance=balance, ref=ref)
        return refund.credits

    async def _record_refund(self, payment: Payment, *, refund_id: str, amount: str, currency: str) -> Refund:
        share = Decimal(amount or "0") / Decimal(payment.amount)
        for _ in range(10):  # retried only when a concurrent refund of the same payment got in first
            existing = next((r for r in payment.refunds if r.id == refund_id), None)
            if existing is not None:
                return existing
            left = payment.credits - payment.reversed_credits if payment.credited else 0
            credits = left if share >= 1 else min(
                left, int((payment.credits * share).to_integral_value(ROUND_FLOOR)))
            full = share >= 1 or payment.reversed_credits + credits >= payment.credits
            refund = Refund(id=refund_id, amount=amount, currency=currency, credits=credits, at=utcnow())
            status = "REFUNDED" if full else "PARTIALLY_REFUNDED"
            if await self._payments.add_refund(payment, refund, status=status):
                return refund
            payment = await self._reload(payment)
        raise Conflict("The refund could not be recorded; PayPal will retry the webhook.")
