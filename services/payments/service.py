"""Credit-pack purchases through a payment processor (PayPal, Stripe): checkout, capture
(return, mobile, webhook, reconcile), refunds and disputes.

Exactly-once crediting does not depend on who captures first: every path
(web return, mobile capture, the processor's webhook, the reconcile job) ends in
`apply_capture`, which moves the payment to COMPLETED with one conditional
update and then calls `credits.purchase(ref=payment_id)`, which the ledger
applies once per ref. PayPal itself captures once: every capture of a
payment carries the same PayPal-Request-Id (`capture-<payment id>`), so
concurrent or retried captures get PayPal's first answer back; a Stripe Checkout
Session takes the money itself, so its "capture" only reads the session.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from urllib.parse import urlencode

import structlog

from services.credits.ports import Credits
from services.payments.customers import PaymentCustomers
from services.payments.model import (
    CAPTURABLE,
    DENIED_CAPTURE,
    SETTLED,
    Payment,
    PaymentDeclined,
    PaymentFlagged,
    Refund,
    same_money,
)
from services.payments.ports import CaptureInfo, PaymentRejected, PaymentRepository, PaymentsProvider
from services.payments.providers import PaymentProviders
from services.platform.catalog import Catalog
from services.platform.clock import utcnow
from services.platform.errors import AppError, Conflict, FeatureDisabled, NotFound
from services.platform.ids import new_id

log = structlog.stdlib.get_logger("muse.payments")


def _with_query(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _declined(payment: Payment) -> PaymentDeclined:
    return PaymentDeclined("PayPal declined this payment; start a new checkout.", payment_id=payment.id)


class PaymentService:
    """Checkout, capture and refund of credit packs."""

    def __init__(
        self, payments: PaymentRepository, providers: PaymentProviders, catalog: Catalog,
        credits: Credits, customers: PaymentCustomers, *, api_base: str, success_redirect: str,
        cancel_redirect: str, portal_return_url: str,
    ) -> None:
        self._payments, self._providers, self._catalog, self._credits = payments, providers, catalog, credits
        self._customers = customers
        self._api_base = api_base  # `<api_base>/<provider>/return|cancel` are the processors' return routes
        self._success, self._cancelled = success_redirect, cancel_redirect
        self._portal_return = portal_return_url

    @property
    def providers(self) -> PaymentProviders:
        """The enabled processors."""
        return self._providers

    @property
    def provider(self) -> PaymentsProvider:
        """The preferred processor; 503 when none is configured."""
        return self._providers.get()

    def provider_for(self, payment: Payment) -> PaymentsProvider:
        """The processor a payment was made with; 503 when it is no longer configured."""
        return self._providers.get(payment.provider)

    @property
    def enabled(self) -> bool:
        """Whether any processor is configured."""
        return self._providers.enabled

    async def checkout(self, user_id: str, pack_name: str, *, request_id: str | None,
                       provider_name: str | None = None) -> Payment:
        """Create a payment and its checkout for a catalogue pack (price never from the client)."""
        provider = self._providers.get(provider_name)
        pack = self._catalog.pack(pack_name)
        now = utcnow()
        payment = await self._payments.create(Payment(
            id=new_id("pay"), user_id=user_id, provider=provider.name, pack=pack.name, credits=pack.credits,
            amount=pack.price,
            currency=pack.currency, request_id=request_id, created_at=now, updated_at=now))
        try:
            customer_id = await self._customers.ensure(provider, user_id)
            order = await provider.create_checkout(
                payment_id=payment.id, amount=pack.price, currency=pack.currency,
                description=f"Muse {pack.credits} credits",
                return_url=f"{self._api_base}/{provider.name}/return",
                cancel_url=f"{self._api_base}/{provider.name}/cancel", request_id=f"create-{payment.id}",
                customer_id=customer_id)
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
        provider = self.provider_for(payment)
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

    async def return_redirect(self, provider: str, order_id: str | None, *, request_id: str | None) -> str:
        """Handle a processor's return (`order_id`: its checkout id): capture and credit, then where to
        send the browser."""
        payment = await self._payments.get_by_external_id(provider, order_id) if order_id else None
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

    async def cancel_redirect(self, provider: str, order_id: str | None, *,
                              payment_id: str | None = None) -> str:
        """The buyer cancelled at the processor: mark it (if still open) and where to send the browser."""
        payment = await self._payments.get_by_external_id(provider, order_id) if order_id else None
        if payment is None and payment_id:
            payment = await self._payments.get(payment_id)
        if payment is None or payment.provider != provider:
            return self._cancelled
        await self._payments.update(payment.id, {"status": "CANCELLED"}, only_if_status=("CREATED",))
        return _with_query(self._cancelled, payment_id=payment.id)

    async def find_for_capture(self, *, provider: str, custom_id: str | None, order_id: str | None,
                               capture_id: str | None) -> Payment | None:
        """The payment a processor's capture or refund belongs to."""
        async def by_capture(key: str) -> Payment | None:
            return await self._payments.get_by_external_capture(provider, key)

        async def by_checkout(key: str) -> Payment | None:
            return await self._payments.get_by_external_id(provider, key)

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
            await self._credits.reverse(payment.user_id, refund.credits, ref=ref,
                                        reason=f"{payment.provider}_refund", request_id=request_id)
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
        raise Conflict("The refund could not be recorded; the processor will retry the webhook.")

    async def portal(self, user_id: str) -> str:
        """The URL of a billing portal for the user's customer record; 404 when they have none."""
        if not self._providers.enabled:
            raise FeatureDisabled("Payments are not configured.")
        for provider in self._providers:
            customer_id = await self._customers.get(user_id, provider.name)
            if not customer_id:
                continue
            url = await provider.portal_url(customer_id, return_url=self._portal_return)
            if url:
                return url
        raise NotFound("You have no billing customer yet.")
