"""`PaymentsProvider` on Stripe: Checkout Sessions (`mode=payment` priced from the catalogue,
`mode=subscription` with `STRIPE_PRICE_IDS`), customers, the billing portal, subscriptions and
`Stripe-Signature` webhooks, through the official SDK's async methods pointed at `STRIPE_BASE_URL`.

A Checkout Session takes the money itself: "capturing" one only reads it. Every create carries
an `Idempotency-Key` (our request id), so a retried call returns Stripe's first answer. SDK and
transport errors are mapped onto `services.platform.errors` here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

import httpx
import stripe
import structlog

from providers.stripe.events import parse_session, parse_subscription, to_minor, translate
from services.payments.ports import (
    CaptureRefunded,
    Checkout,
    PaymentRejected,
    SubscriptionInfo,
    WebhookDelivery,
)
from services.platform.errors import (
    InvalidWebhook,
    NotFound,
    UpstreamError,
    UpstreamRetryable,
    UpstreamTimeout,
)

log = structlog.stdlib.get_logger("muse.stripe")
T = TypeVar("T")
TOLERANCE_S = 300
# Waits before sending again a request whose Idempotency-Key Stripe is still working on (~6 s in all).
KEY_IN_USE_PAUSES_S = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2)


def _plain(obj: Any) -> dict[str, Any]:
    """A StripeObject as plain JSON data."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _code(exc: stripe.StripeError) -> str | None:
    """Stripe's error code (the SDK leaves `code` unset on an IdempotencyError; the body has it)."""
    body: dict[str, Any] = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    return exc.code or (error.get("code") if isinstance(error, dict) else None)


def _raise_for(exc: stripe.StripeError, what: str) -> None:
    status = exc.http_status or 0
    if isinstance(exc, stripe.APIConnectionError):
        if isinstance(exc.__cause__, httpx.TimeoutException):
            raise UpstreamTimeout(f"Stripe did not answer in time to {what}; retry the request.") from exc
        raise UpstreamRetryable(f"Stripe could not be reached to {what}; retry the request.") from exc
    if status == 404:
        raise NotFound(f"Stripe does not know this {what.split(' ', 1)[-1]}.") from exc
    if status in (408, 409, 429) or status >= 500:
        raise UpstreamRetryable(f"Stripe failed to {what} ({status}); retry the request.",
                                upstream_status=status) from exc
    if isinstance(exc, stripe.InvalidRequestError | stripe.CardError):
        raise PaymentRejected(exc.user_message or f"Stripe refused to {what}.", issue=exc.code) from exc
    raise UpstreamError(f"Stripe answered {status or 'an error'} to {what}.", upstream_status=status) from exc


class StripePayments:
    """`PaymentsProvider` on the Stripe API."""

    name = "stripe"

    def __init__(self, *, secret_key: str, webhook_secret: str | None, base_url: str | None = None,
                 timeout: float = 20.0, price_ids: Mapping[str, str] | None = None) -> None:
        self.price_ids = dict(price_ids or {})  # catalogue plan → Stripe price id (STRIPE_PRICE_IDS)
        self._webhook_secret = webhook_secret
        self._http = stripe.HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            secret_key, base_addresses={"api": base_url.rstrip("/")} if base_url else None,
            max_network_retries=0, http_client=self._http)

    async def aclose(self) -> None:
        """Close the SDK's HTTP connections."""
        await self._http.close_async()

    async def _call(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """The SDK call, its errors mapped; a request whose Idempotency-Key is still in progress at
        Stripe (409 `idempotency_key_in_use`, e.g. two first checkouts of one user creating its
        customer at once) is sent again after a pause until Stripe replays the first one's answer."""
        for pause in (*KEY_IN_USE_PAUSES_S, None):
            try:
                return await call()
            except stripe.StripeError as exc:
                if _code(exc) == "idempotency_key_in_use" and pause is not None:
                    log.info("stripe_idempotency_key_in_use", what=what, retry_in_s=pause)
                    await asyncio.sleep(pause)
                    continue
                log.warning("stripe_error", what=what, status=exc.http_status, code=exc.code)
                _raise_for(exc, what)
                raise  # unreachable
        raise AssertionError("unreachable")

    # -- checkouts ---------------------------------------------------------------------------

    async def create_checkout(
        self, *, payment_id: str, amount: str, currency: str, description: str,
        return_url: str, cancel_url: str, request_id: str, customer_id: str | None = None,
    ) -> Checkout:
        """A `mode=payment` Checkout Session for one catalogue pack, tagged with `payment_id`."""
        params: Any = {  # the SDK types it as SessionCreateParams (a TypedDict)
            "mode": "payment", "client_reference_id": payment_id,
            "success_url": f"{return_url}?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{cancel_url}?payment_id={payment_id}",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": currency.lower(), "unit_amount": to_minor(amount, currency),
                "product_data": {"name": description[:250]}}}],
            "metadata": {"payment_id": payment_id},
            "payment_intent_data": {"metadata": {"payment_id": payment_id}},
        }
        if customer_id:
            params["customer"] = customer_id
        session = await self._call("create the checkout session", lambda: self._client.v1.checkout.sessions
                                   .create_async(params=params, options={"idempotency_key": request_id}))
        return parse_session(_plain(session))

    async def get_checkout(self, external_id: str) -> Checkout:
        """The Checkout Session as Stripe has it now."""
        session = await self._call("read the checkout session",
                                   lambda: self._client.v1.checkout.sessions.retrieve_async(external_id))
        return parse_session(_plain(session))

    async def capture_checkout(self, external_id: str, *, request_id: str) -> Checkout:  # noqa: ARG002
        """A paid session has its money already: read it; an unpaid one is refused (not paid yet)."""
        checkout = await self.get_checkout(external_id)
        if checkout.capture is None:
            raise PaymentRejected("The Stripe checkout is not paid yet.", issue=f"SESSION_{checkout.status}")
        return checkout

    # -- customers and portal ----------------------------------------------------------------

    async def create_customer(self, *, user_id: str, request_id: str) -> str | None:
        """A Stripe customer for the user (the same `request_id` returns the same customer)."""
        customer = await self._call("create the customer", lambda: self._client.v1.customers.create_async(
            params={"metadata": {"user_id": user_id}}, options={"idempotency_key": request_id}))
        return str(customer.id)

    async def portal_url(self, customer_id: str, *, return_url: str) -> str | None:
        """A customer portal session's URL."""
        portal = await self._call("open the billing portal", lambda: self._client.v1.billing_portal.sessions
                                  .create_async(params={"customer": customer_id, "return_url": return_url}))
        return str(portal.url)

    # -- subscriptions -----------------------------------------------------------------------

    def external_plan_id(self, plan: str) -> str | None:
        """The Stripe price of a catalogue plan (`STRIPE_PRICE_IDS`)."""
        return self.price_ids.get(plan)

    async def start_subscription(
        self, *, plan: str, custom_id: str, return_url: str, cancel_url: str, request_id: str,
        customer_id: str | None = None,
    ) -> SubscriptionInfo:
        """A `mode=subscription` Checkout Session; the Stripe subscription exists once it is paid."""
        price_id = self.external_plan_id(plan)
        if price_id is None:
            raise PaymentRejected(f"The plan {plan!r} has no Stripe price.", issue="NO_PLAN")
        params: Any = {  # the SDK types it as SessionCreateParams (a TypedDict)
            "mode": "subscription", "client_reference_id": custom_id,
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": return_url, "cancel_url": cancel_url,
            "metadata": {"subscription_id": custom_id},
            "subscription_data": {"metadata": {"subscription_id": custom_id}},
        }
        if customer_id:
            params["customer"] = customer_id
        session = await self._call("create the checkout session", lambda: self._client.v1.checkout.sessions
                                   .create_async(params=params, options={"idempotency_key": request_id}))
        return SubscriptionInfo(id=str(session.id), status="APPROVAL_PENDING", plan_id=price_id,
                                custom_id=custom_id, approve_url=session.url)

    async def get_subscription(self, subscription_id: str) -> SubscriptionInfo:
        """The subscription (a `cs_` id: the one its checkout session started, if paid)."""
        if subscription_id.startswith("cs_"):
            session = _plain(await self._call("read the checkout session", lambda: self._client.v1.checkout
                                              .sessions.retrieve_async(subscription_id)))
            if not session.get("subscription"):
                return SubscriptionInfo(id=subscription_id, status="APPROVAL_PENDING",
                                        custom_id=session.get("client_reference_id"),
                                        approve_url=session.get("url"))
            subscription_id = str(session["subscription"])
        sub = await self._call("read the subscription",
                               lambda: self._client.v1.subscriptions.retrieve_async(subscription_id))
        return parse_subscription(_plain(sub))

    async def cancel_subscription(self, subscription_id: str, *, reason: str) -> None:  # noqa: ARG002
        """Cancel now (an unpaid checkout: expire it); already cancelled or expired is fine."""
        try:
            if subscription_id.startswith("cs_"):
                await self._call("expire the checkout session",
                                 lambda: self._client.v1.checkout.sessions.expire_async(subscription_id))
            else:
                await self._call("cancel the subscription",
                                 lambda: self._client.v1.subscriptions.cancel_async(subscription_id))
        except PaymentRejected as exc:
            log.info("stripe_cancel_refused", subscription_id=subscription_id, code=exc.issue)

    # -- webhooks ----------------------------------------------------------------------------

    async def read_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        """Check `Stripe-Signature` (HMAC-SHA256 of "t.body", 300 s tolerance) and translate the event."""
        signature = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        if not self._webhook_secret or not signature:
            raise InvalidWebhook("The Stripe-Signature header is missing.")
        try:
            stripe.WebhookSignature.verify_header(body.decode("utf-8"), signature, self._webhook_secret,
                                                  tolerance=TOLERANCE_S)
            event = json.loads(body)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
            log.warning("stripe_webhook_unverified", error=type(exc).__name__)
            raise InvalidWebhook("Stripe's signature of this webhook does not verify.") from exc
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event.get("type"):
            raise InvalidWebhook("Not a Stripe event.")
        translated = translate(event)
        if isinstance(translated, CaptureRefunded) and translated.custom_id is None and translated.capture_id:
            translated = replace(translated, custom_id=await self._payment_id_of(translated.capture_id))
        return WebhookDelivery(event["id"], str(event["type"]), translated)

    async def _payment_id_of(self, payment_intent_id: str) -> str | None:
        """Our payment id from a PaymentIntent's metadata (charges and disputes do not carry it), so that a
        refund that overtakes its checkout's event still finds its payment."""
        intent = await self._call("read the payment intent",
                                  lambda: self._client.v1.payment_intents.retrieve_async(payment_intent_id))
        return (_plain(intent).get("metadata") or {}).get("payment_id")
