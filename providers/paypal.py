"""PayPal adapter: Orders v2 through `paypal-server-sdk`, Subscriptions v1 and
webhook verification through plain `httpx` against the REST API.

Both paths share one OAuth2 client-credentials token (`PayPalTokenCache`),
fetched lazily and reused until shortly before it expires. The SDK is sync
(requests), so its calls run in `asyncio.to_thread`. SDK and transport errors
are mapped onto `services.platform.errors` at this boundary.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import certifi
import httpx
import requests
import structlog
from paypalserversdk.configuration import Configuration, Server
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.payment_source import PaymentSource
from paypalserversdk.models.paypal_wallet import PaypalWallet
from paypalserversdk.models.paypal_wallet_experience_context import PaypalWalletExperienceContext
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from providers.paypal_auth import PayPalTokenCache
from providers.paypal_events import translate
from services.payments.ports import CaptureInfo, Checkout, PaymentRejected, SubscriptionInfo, WebhookDelivery
from services.platform.errors import (
    InvalidWebhook,
    NotFound,
    UpstreamError,
    UpstreamRetryable,
    UpstreamTimeout,
)

log = structlog.stdlib.get_logger("muse.paypal")
T = TypeVar("T")

_WEBHOOK_HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}


def _sdk_configuration(base_url: str, **kwargs: Any) -> Configuration:
    class _Configuration(Configuration):
        def get_base_uri(self, server: Server = Server.DEFAULT) -> str:  # noqa: ARG002
            return base_url

    return _Configuration(**kwargs)


def _link(body: Mapping[str, Any], *rels: str) -> str | None:
    for link in body.get("links") or []:
        if link.get("rel") in rels:
            return link.get("href")
    return None


def parse_order(body: Mapping[str, Any]) -> Checkout:
    """An Orders v2 JSON body → Checkout."""
    units = body.get("purchase_units") or [{}]
    unit = units[0]
    amount = unit.get("amount") or {}
    captures = []
    for cap in ((unit.get("payments") or {}).get("captures") or []):
        cap_amount = cap.get("amount") or {}
        captures.append(CaptureInfo(
            id=cap["id"], status=cap.get("status", ""), amount=str(cap_amount.get("value", "")),
            currency=cap_amount.get("currency_code", ""), custom_id=cap.get("custom_id")))
    return Checkout(
        id=body["id"], status=body.get("status", ""), approve_url=_link(body, "approve", "payer-action"),
        custom_id=unit.get("custom_id"), amount=amount.get("value"), currency=amount.get("currency_code"),
        captures=tuple(captures))


def parse_subscription(body: Mapping[str, Any]) -> SubscriptionInfo:
    """A Subscriptions v1 JSON body → SubscriptionInfo."""
    return SubscriptionInfo(
        id=body["id"], status=body.get("status", ""), plan_id=body.get("plan_id"),
        custom_id=body.get("custom_id"), approve_url=_link(body, "approve"),
        next_billing_time=(body.get("billing_info") or {}).get("next_billing_time"), raw=dict(body))


def _error_issue(body: Any) -> tuple[str | None, str | None]:
    if not isinstance(body, dict):
        return None, None
    details = body.get("details") or [{}]
    return (details[0].get("issue") if isinstance(details[0], dict) else None) or body.get("name"), body.get(
        "message")


def _raise_for(status: int, body: Any, what: str) -> None:
    issue, message = _error_issue(body)
    if status == 404:
        raise NotFound(f"PayPal does not know this {what}.")
    if status in (408, 429) or status >= 500:
        raise UpstreamRetryable(f"PayPal failed to {what} ({status}); retry the request.",
                                upstream_status=status)
    if status in (400, 403, 409, 422):
        raise PaymentRejected(message or f"PayPal refused to {what}.", issue=issue)
    raise UpstreamError(f"PayPal answered {status} to {what}.", upstream_status=status)


class PayPalPayments:
    """`PaymentsProvider` on the PayPal REST API."""

    name = "paypal"

    def __init__(
        self, *, base_url: str, client_id: str, client_secret: str, webhook_id: str | None,
        timeout: float = 20.0, plan_ids: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.plan_ids = dict(plan_ids or {})  # catalogue plan → PayPal billing plan id (PAYPAL_PLAN_IDS)
        self.webhook_id = webhook_id
        self.timeout = timeout
        self._ssl = ssl.create_default_context(cafile=certifi.where())  # once: ~0.1 s per client otherwise
        self.tokens = PayPalTokenCache(self.base_url, client_id, client_secret, timeout=timeout)
        credentials = ClientCredentialsAuthCredentials(
            o_auth_client_id=client_id, o_auth_client_secret=client_secret,
            o_auth_token_provider=self.tokens.sdk_token)
        self._sdk = PaypalServersdkClient(config=_sdk_configuration(
            self.base_url, timeout=timeout, max_retries=0,
            client_credentials_auth_credentials=credentials))

    async def aclose(self) -> None:
        """Nothing to release: each REST call opens its own short-lived httpx client."""

    # -- SDK path (Orders v2) -------------------------------------------------

    async def _sdk_call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(call)
        except requests.exceptions.Timeout as exc:
            raise UpstreamTimeout(f"PayPal did not answer in time to {what}; retry the request.") from exc
        except requests.exceptions.RequestException as exc:
            raise UpstreamRetryable(f"PayPal could not be reached to {what}; retry the request.") from exc
        except ApiException as exc:
            try:
                body = json.loads(exc.response.text or "null")
            except ValueError:
                body = None
            if exc.response_code == 401:
                self.tokens.invalidate()
            log.warning("paypal_error", what=what, status=exc.response_code, issue=_error_issue(body)[0])
            _raise_for(exc.response_code, body, what)
            raise  # unreachable

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        return json.loads(response.text)

    async def create_checkout(
        self, *, payment_id: str, amount: str, currency: str, description: str,
        return_url: str, cancel_url: str, request_id: str, customer_id: str | None = None,  # noqa: ARG002
    ) -> Checkout:
        """Create a CAPTURE order; PayPal-Request-Id makes a retry return the same order."""
        body = OrderRequest(
            intent=CheckoutPaymentIntent.CAPTURE,
            purchase_units=[PurchaseUnitRequest(
                amount=AmountWithBreakdown(currency_code=currency, value=amount),
                reference_id=payment_id, custom_id=payment_id, description=description[:127])],
            payment_source=PaymentSource(paypal=PaypalWallet(experience_context=PaypalWalletExperienceContext(
                return_url=return_url, cancel_url=cancel_url, user_action="PAY_NOW",
                shipping_preference="NO_SHIPPING"))))
        response = await self._sdk_call("create the order", lambda: self._sdk.orders.create_order({
            "body": body, "paypal_request_id": request_id, "prefer": "return=representation"}))
        return parse_order(self._json(response))

    async def get_checkout(self, external_id: str) -> Checkout:
        """The order as PayPal has it now."""
        response = await self._sdk_call(
            "read the order", lambda: self._sdk.orders.get_order({"id": external_id}))
        return parse_order(self._json(response))

    async def capture_checkout(self, external_id: str, *, request_id: str) -> Checkout:
        """Capture; the same `request_id` makes PayPal replay the first result."""
        response = await self._sdk_call("capture the order", lambda: self._sdk.orders.capture_order({
            "id": external_id, "paypal_request_id": request_id, "prefer": "return=representation"}))
        return parse_order(self._json(response))

    # -- httpx path (Subscriptions v1, webhook verification) -------------------

    async def _rest(self, method: str, path: str, what: str, *, json_body: Any = None,
                    raw_json: bytes | None = None, headers: Mapping[str, str] | None = None) -> Any:
        for attempt in (1, 2):
            token = await self.tokens.aget()
            try:
                async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout,
                                             verify=self._ssl) as http:
                    sent = {"content": raw_json} if raw_json is not None else {"json": json_body}
                    response = await http.request(method, path, **sent, headers={
                        "Authorization": f"Bearer {token}", "Accept": "application/json",
                        "Content-Type": "application/json", **(headers or {})})
            except httpx.TimeoutException as exc:
                raise UpstreamTimeout(f"PayPal did not answer in time to {what}; retry the request.") from exc
            except httpx.HTTPError as exc:
                raise UpstreamRetryable(f"PayPal could not be reached to {what}; retry the request.") from exc
            if response.status_code == 401 and attempt == 1:
                self.tokens.invalidate()
                continue
            body = response.json() if response.content else None
            if response.status_code >= 300:
                log.warning("paypal_error", what=what, status=response.status_code,
                            issue=_error_issue(body)[0])
                _raise_for(response.status_code, body, what)
            return body
        raise UpstreamError(f"PayPal refused our credentials to {what}.")

    async def create_customer(self, *, user_id: str, request_id: str) -> str | None:  # noqa: ARG002
        """PayPal has no customer records Muse keeps: None."""
        return None

    async def portal_url(self, customer_id: str, *, return_url: str) -> str | None:  # noqa: ARG002
        """PayPal has no billing portal: None."""
        return None

    def external_plan_id(self, plan: str) -> str | None:
        """The PayPal billing plan of a catalogue plan (`PAYPAL_PLAN_IDS`)."""
        return self.plan_ids.get(plan)

    async def start_subscription(
        self, *, plan: str, custom_id: str, return_url: str, cancel_url: str, request_id: str,
        customer_id: str | None = None,  # noqa: ARG002  (PayPal keeps no customer records for us)
    ) -> SubscriptionInfo:
        """POST /v1/billing/subscriptions for the PayPal plan mapped to `plan`."""
        plan_id = self.external_plan_id(plan)
        if plan_id is None:
            raise PaymentRejected(f"The plan {plan!r} has no PayPal plan.", issue="NO_PLAN")
        body = await self._rest("POST", "/v1/billing/subscriptions", "create the subscription", json_body={
            "plan_id": plan_id, "custom_id": custom_id,
            "application_context": {"return_url": return_url, "cancel_url": cancel_url,
                                    "user_action": "SUBSCRIBE_NOW", "shipping_preference": "NO_SHIPPING"},
        }, headers={"PayPal-Request-Id": request_id, "Prefer": "return=representation"})
        return parse_subscription(body)

    async def get_subscription(self, subscription_id: str) -> SubscriptionInfo:
        """GET /v1/billing/subscriptions/{id}."""
        body = await self._rest("GET", f"/v1/billing/subscriptions/{subscription_id}",
                                "read the subscription")
        return parse_subscription(body)

    async def cancel_subscription(self, subscription_id: str, *, reason: str) -> None:
        """POST /v1/billing/subscriptions/{id}/cancel; an already-cancelled one is fine."""
        try:
            await self._rest("POST", f"/v1/billing/subscriptions/{subscription_id}/cancel",
                             "cancel the subscription", json_body={"reason": reason[:127] or "cancelled"})
        except PaymentRejected as exc:
            if exc.issue != "SUBSCRIPTION_STATUS_INVALID":
                raise

    async def read_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        """Verify a delivery with PayPal and translate it (`providers/paypal_events.py`)."""
        try:
            event = json.loads(body or b"null")
        except ValueError as exc:
            raise InvalidWebhook("The body is not JSON.") from exc
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event.get("event_type"):
            raise InvalidWebhook("Not a PayPal event.")
        if not await self.verify_webhook(headers=headers, event=event, raw_body=body):
            log.warning("paypal_webhook_unverified", event_id=event["id"], event_type=event.get("event_type"))
            raise InvalidWebhook("PayPal did not verify this webhook's signature.")
        return WebhookDelivery(event["id"], str(event["event_type"]), translate(event))

    async def verify_webhook(self, *, headers: Mapping[str, str], event: dict[str, Any],
                             raw_body: bytes | None = None) -> bool:
        """POST /v1/notifications/verify-webhook-signature with PAYPAL_WEBHOOK_ID.

        With `raw_body` the event goes to PayPal byte for byte as it arrived:
        re-serialising it (key order, number formats) can make PayPal answer FAILURE."""
        lower = {k.lower(): v for k, v in headers.items()}
        fields = {name: lower.get(header) for name, header in _WEBHOOK_HEADERS.items()}
        if not self.webhook_id or not all(fields.values()):
            return False
        envelope = {**fields, "webhook_id": self.webhook_id}
        raw = None
        if raw_body is not None:
            raw = json.dumps(envelope).encode()[:-1] + b', "webhook_event": ' + raw_body.strip() + b"}"
        body = await self._rest("POST", "/v1/notifications/verify-webhook-signature", "verify the webhook",
                                json_body={**envelope, "webhook_event": event}, raw_json=raw)
        return bool(body) and body.get("verification_status") == "SUCCESS"
