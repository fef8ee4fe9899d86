"""A wire-level fake of the PayPal REST API on 127.0.0.1 (stdlib ThreadingHTTPServer).

Speaks what the real SDK and our httpx calls send: OAuth2 client credentials,
Orders v2 (create / get / capture, approval simulated with `approve()`),
Subscriptions v1 (create / get / cancel, `activate_subscription()`), and
verify-webhook-signature. Like PayPal it replays the stored response for a
repeated `PayPal-Request-Id`. Failures on demand: `fail_next` (status code),
`hang_next` (answer late, optionally after doing the work), `capture_amount`
(capture a different amount than ordered), `capture_status` (PENDING or DECLINED
captures; `settle_capture()` later completes or denies them; `void()` an order),
`signatures_valid = False`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.fakes.http_server import Answer, FakeHTTPServer

CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID = "fake-client", "fake-secret", "WH-FAKE-1"
_SIGN_KEY = b"fake-paypal-signing-key"


@dataclass
class _Hang:
    seconds: float
    after_work: bool


class FakePayPal(FakeHTTPServer):
    """State and failure switches of the fake; serves at `url` once started."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self.orders: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.replies: dict[tuple[str, str], tuple[int, Any]] = {}
        self.tokens: set[str] = set()
        self.expires_in = 32400
        self.failures: dict[str, list[int]] = {}
        self.hangs: dict[str, list[_Hang]] = {}
        self.capture_amount: str | None = None
        self.capture_status = "COMPLETED"
        self.signatures_valid = True

    # -- control ---------------------------------------------------------------
    def fail_next(self, kind: str, status: int = 500, times: int = 1) -> None:
        """The next `times` calls of `kind` (e.g. "capture") answer `status`."""
        with self.lock:
            self.failures.setdefault(kind, []).extend([status] * times)

    def hang_next(self, kind: str, seconds: float = 5.0, *, after_work: bool = True, times: int = 1) -> None:
        """The next calls of `kind` answer only after `seconds` (doing the work first if `after_work`)."""
        with self.lock:
            self.hangs.setdefault(kind, []).extend([_Hang(seconds, after_work)] * times)

    def approve(self, order_id: str) -> None:
        """Simulate the buyer approving the order on PayPal."""
        with self.lock:
            order = self.orders[order_id]
            if order["status"] == "CREATED":
                order["status"] = "APPROVED"

    def settle_capture(self, order_id: str, status: str = "COMPLETED") -> dict[str, Any]:
        """Simulate PayPal finishing a PENDING capture (COMPLETED or DECLINED); the order afterwards."""
        with self.lock:
            self.orders[order_id]["purchase_units"][0]["payments"]["captures"][0]["status"] = status
            return self._public_order(order_id)

    def void(self, order_id: str) -> None:
        """Simulate PayPal voiding an order that was never captured."""
        with self.lock:
            self.orders[order_id]["status"] = "VOIDED"

    def activate_subscription(self, subscription_id: str) -> None:
        """Simulate the buyer approving a subscription (it becomes ACTIVE)."""
        with self.lock:
            self.subscriptions[subscription_id]["status"] = "ACTIVE"

    def order_for(self, custom_id: str) -> dict[str, Any]:
        """The order whose purchase unit carries `custom_id`."""
        with self.lock:
            return next(o for o in self.orders.values()
                        if o["purchase_units"][0].get("custom_id") == custom_id)

    def sign(self, transmission_id: str, event: dict[str, Any]) -> str:
        """The signature the fake accepts for this transmission."""
        msg = f"{transmission_id}|{event.get('id')}".encode()
        return base64.b64encode(hmac.new(_SIGN_KEY, msg, hashlib.sha256).digest()).decode()

    def webhook_headers(self, event: dict[str, Any], *, valid: bool = True) -> dict[str, str]:
        """Headers PayPal would send with `event` (a wrong signature unless `valid`)."""
        tid = str(uuid.uuid4())
        sig = self.sign(tid, event) if valid else base64.b64encode(b"forged").decode()
        return {"PAYPAL-AUTH-ALGO": "SHA256withRSA", "PAYPAL-CERT-URL": f"{self.url}/certs/CERT-1",
                "PAYPAL-TRANSMISSION-ID": tid, "PAYPAL-TRANSMISSION-SIG": sig,
                "PAYPAL-TRANSMISSION-TIME": "2026-01-01T00:00:00Z"}

    def buyer_page(self, query: str) -> Answer:
        """The buyer's approval page (`/checkoutnow?token=…`): approves, 302 to the order's return URL."""
        from urllib.parse import parse_qs

        order_id = (parse_qs(query).get("token") or [""])[0]
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return 404, {"Content-Type": "text/plain"}, b"unknown order"
            self.approve(order_id)
            target = order.get("experience_context", {}).get("return_url", "")
        sep = "&" if "?" in target else "?"
        return 302, {"Location": f"{target}{sep}token={order_id}&PayerID=FAKEPAYER"}, b""

    # -- protocol ----------------------------------------------------------------
    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        """Decode the request, answer it as PayPal would (JSON, or no body for 204)."""
        raw = body.decode()
        path, _, query = path.partition("?")
        ctype = headers.get("Content-Type") or ""
        decoded: Any = raw
        if "json" in ctype:
            decoded = json.loads(raw) if raw else {}
        lowered = {k.lower(): v for k, v in headers.items()}
        if method == "GET" and path == "/checkoutnow":
            return self.buyer_page(query)
        if _kind(method, path) == "unknown":
            status, payload = 404, _error("NOT_FOUND", "UNKNOWN_PATH")
        else:
            status, payload = self.respond(method, path, lowered, decoded, body)
        if payload is None:
            return status, {}, b""
        return self.json(status, payload)

    def respond(self, method: str, path: str, headers: dict[str, str], body: Any,
                raw: bytes = b"") -> tuple[int, Any]:
        """Record the call, apply the failure switches, then do the work of its kind."""
        kind = _kind(method, path)
        with self.lock:
            self.calls[kind] += 1
            self.requests.append(
                {"kind": kind, "method": method, "path": path, "headers": headers, "body": body, "raw": raw})
            failures = self.failures.get(kind)
            if failures:
                return failures.pop(0), {"name": "INTERNAL_SERVER_ERROR", "message": "fake failure",
                                         "debug_id": "dbg"}
            hangs = self.hangs.get(kind)
            hang = hangs.pop(0) if hangs else None
        if hang and not hang.after_work:
            self.release.wait(hang.seconds)
        if kind != "token" and headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return 401, {"name": "AUTHENTICATION_FAILURE", "message": "bad token"}
        request_id = headers.get("paypal-request-id")
        with self.lock:
            if request_id and (kind, request_id) in self.replies:
                result = self.replies[(kind, request_id)]
            else:
                result = getattr(self, f"_do_{kind}")(path, headers, body)
                if request_id and result[0] < 300:
                    self.replies[(kind, request_id)] = result
        if hang and hang.after_work:
            self.release.wait(hang.seconds)
        return result

    def _do_token(self, path, headers, body) -> tuple[int, Any]:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if headers.get("authorization") != expected or "grant_type=client_credentials" not in (body or ""):
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        token = f"A21AA{uuid.uuid4().hex}"
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "app_id": "APP-FAKE",
                     "expires_in": self.expires_in, "scope": "https://uri.paypal.com/services/payments"}

    def _do_create_order(self, path, headers, body) -> tuple[int, Any]:
        order_id = uuid.uuid4().hex[:17].upper()
        unit = body["purchase_units"][0]
        context = ((body.get("payment_source") or {}).get("paypal") or {}).get("experience_context") or {}
        rel = "payer-action" if body.get("payment_source") else "approve"
        self.orders[order_id] = {
            "id": order_id, "intent": body["intent"], "status": "CREATED",
            "purchase_units": [{"reference_id": unit.get("reference_id", "default"), "amount": unit["amount"],
                                "custom_id": unit.get("custom_id"), "description": unit.get("description")}],
            "experience_context": context,
            "links": [{"href": f"{self.url}/checkoutnow?token={order_id}", "rel": rel, "method": "GET"},
                      {"href": f"{self.url}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"}],
        }
        return 201, self._public_order(order_id)

    def _public_order(self, order_id: str) -> dict[str, Any]:
        order = json.loads(json.dumps(self.orders[order_id]))
        order.pop("experience_context", None)
        return order

    def _do_get_order(self, path, headers, body) -> tuple[int, Any]:
        order_id = path.rsplit("/", 1)[1]
        if order_id not in self.orders:
            return 404, _error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        return 200, self._public_order(order_id)

    def _do_capture(self, path, headers, body) -> tuple[int, Any]:
        order_id = path.split("/")[-2]
        order = self.orders.get(order_id)
        if order is None:
            return 404, _error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if order["status"] == "COMPLETED":
            return 422, _error("UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            return 422, _error("UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
        unit = order["purchase_units"][0]
        amount = dict(unit["amount"])
        if self.capture_amount is not None:
            amount["value"] = self.capture_amount
        capture = {"id": f"CAP{order_id}", "status": self.capture_status, "amount": amount,
                   "custom_id": unit.get("custom_id"), "final_capture": True}
        unit["payments"] = {"captures": [capture]}
        order["status"] = "COMPLETED"
        return 201, self._public_order(order_id)

    def _do_create_subscription(self, path, headers, body) -> tuple[int, Any]:
        sub_id = f"I-{uuid.uuid4().hex[:12].upper()}"
        self.subscriptions[sub_id] = {
            "id": sub_id, "plan_id": body["plan_id"], "custom_id": body.get("custom_id"),
            "status": "APPROVAL_PENDING", "billing_info": {"next_billing_time": "2026-12-21T10:00:00Z"},
            "links": [{"href": f"{self.url}/webapps/billing/subscriptions?ba_token=BA-{sub_id}",
                       "rel": "approve", "method": "GET"}],
        }
        return 201, self.subscriptions[sub_id]

    def _do_get_subscription(self, path, headers, body) -> tuple[int, Any]:
        sub = self.subscriptions.get(path.rsplit("/", 1)[1])
        return (200, sub) if sub else (404, _error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID"))

    def _do_cancel_subscription(self, path, headers, body) -> tuple[int, Any]:
        sub = self.subscriptions.get(path.split("/")[-2])
        if sub is None:
            return 404, _error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if sub["status"] not in ("ACTIVE", "SUSPENDED", "APPROVAL_PENDING", "APPROVED"):
            return 422, _error("UNPROCESSABLE_ENTITY", "SUBSCRIPTION_STATUS_INVALID")
        sub["status"] = "CANCELLED"
        return 204, None

    def _do_verify(self, path, headers, body) -> tuple[int, Any]:
        ok = (self.signatures_valid and body.get("webhook_id") == WEBHOOK_ID and hmac.compare_digest(
            body.get("transmission_sig") or "", self.sign(body.get("transmission_id") or "",
                                                          body.get("webhook_event") or {})))
        return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}


_ROUTES = [
    ("POST", r"/v1/oauth2/token", "token"),
    ("POST", r"/v2/checkout/orders", "create_order"),
    ("GET", r"/v2/checkout/orders/[^/]+", "get_order"),
    ("POST", r"/v2/checkout/orders/[^/]+/capture", "capture"),
    ("POST", r"/v1/billing/subscriptions", "create_subscription"),
    ("GET", r"/v1/billing/subscriptions/[^/]+", "get_subscription"),
    ("POST", r"/v1/billing/subscriptions/[^/]+/cancel", "cancel_subscription"),
    ("POST", r"/v1/notifications/verify-webhook-signature", "verify"),
]


def _kind(method: str, path: str) -> str:
    for m, pattern, kind in _ROUTES:
        if m == method and re.fullmatch(pattern, path):
            return kind
    return "unknown"


def _error(name: str, issue: str) -> dict[str, Any]:
    return {"name": name, "message": f"{issue}", "debug_id": "dbg-fake",
            "details": [{"issue": issue, "description": issue.replace("_", " ").lower()}]}


def capture_completed_event(order: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """A PAYMENT.CAPTURE.COMPLETED event for a captured fake order."""
    capture = order["purchase_units"][0]["payments"]["captures"][0]
    resource = {**capture, "supplementary_data": {"related_ids": {"order_id": order["id"]}}}
    return _event("PAYMENT.CAPTURE.COMPLETED", "capture", resource, event_id)


def capture_denied_event(order: dict[str, Any], *, event_type: str = "PAYMENT.CAPTURE.DENIED",
                         event_id: str | None = None) -> dict[str, Any]:
    """A PAYMENT.CAPTURE.DENIED (or DECLINED) event for the capture of a fake order."""
    capture = {**order["purchase_units"][0]["payments"]["captures"][0], "status": "DECLINED"}
    resource = {**capture, "supplementary_data": {"related_ids": {"order_id": order["id"]}}}
    return _event(event_type, "capture", resource, event_id)


def capture_event_for(order: dict[str, Any], *, amount: dict[str, str], event_id: str | None = None,
                      capture_id: str | None = None) -> dict[str, Any]:
    """A PAYMENT.CAPTURE.COMPLETED event PayPal would send for an order captured elsewhere."""
    resource = {"id": capture_id or f"CAP{uuid.uuid4().hex[:14].upper()}", "status": "COMPLETED",
                "amount": amount, "custom_id": order["purchase_units"][0].get("custom_id"),
                "supplementary_data": {"related_ids": {"order_id": order["id"]}}}
    return _event("PAYMENT.CAPTURE.COMPLETED", "capture", resource, event_id)


def refund_event(capture_id: str, amount: dict[str, str], *, custom_id: str | None = None,
                 event_type: str = "PAYMENT.CAPTURE.REFUNDED", event_id: str | None = None) -> dict[str, Any]:
    """A PAYMENT.CAPTURE.REFUNDED (or REVERSED) event for a capture."""
    resource = {"id": f"REF{uuid.uuid4().hex[:14].upper()}", "status": "COMPLETED", "amount": amount,
                "custom_id": custom_id,
                "links": [{"href": f"https://api.paypal.com/v2/payments/captures/{capture_id}", "rel": "up",
                           "method": "GET"}]}
    return _event(event_type, "refund", resource, event_id)


def subscription_event(event_type: str, subscription: dict[str, Any], *, status: str,
                       event_id: str | None = None) -> dict[str, Any]:
    """A BILLING.SUBSCRIPTION.* event for a fake subscription."""
    return _event(event_type, "subscription", {**subscription, "status": status}, event_id)


def sale_completed_event(subscription_id: str, *, total: str = "9.99", event_id: str | None = None) -> dict:
    """A PAYMENT.SALE.COMPLETED event (a subscription renewal payment)."""
    resource = {"id": f"SALE{uuid.uuid4().hex[:12].upper()}", "state": "completed",
                "amount": {"total": total, "currency": "USD"}, "billing_agreement_id": subscription_id}
    return _event("PAYMENT.SALE.COMPLETED", "sale", resource, event_id)


def _event(event_type: str, resource_type: str, resource: dict[str, Any], event_id: str | None) -> dict:
    return {"id": event_id or f"WH-{uuid.uuid4().hex[:20].upper()}", "event_version": "1.0",
            "create_time": "2026-01-01T00:00:00Z", "resource_type": resource_type, "event_type": event_type,
            "summary": event_type, "resource": resource}
