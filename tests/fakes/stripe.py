"""A wire-level fake of the Stripe API on 127.0.0.1 (stdlib ThreadingHTTPServer).

Speaks what the official `stripe` SDK sends (form-encoded bodies with bracketed keys, bearer
`sk_…` auth, `Idempotency-Key` replays): customers, Checkout Sessions (create / retrieve /
expire), billing portal sessions, subscriptions (retrieve / cancel). The buyer is simulated
with `pay()`; money moving later with `refund()`, `dispute()`, `renew()`, `update_subscription()`,
`delete_subscription()`. Each of those queues the events Stripe would send in `outbox`;
`deliveries()` signs them like Stripe (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`)
and can send them twice, reversed (out of order) or stale. Failures on demand: `fail_next`
(any status, 429 included), `hang_next` (answer late, optionally after doing the work).
Idempotency as Stripe does it: a key's answer is saved when its request finishes, and a second
request with a key still in progress answers 409 `idempotency_key_in_use` (`key_conflicts` counts
them; `hang_next(kind, after_work=True)` keeps a request in progress).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.http_server import Answer, FakeHTTPServer

SECRET_KEY, WEBHOOK_SECRET = "sk_test_fake", "whsec_fake_secret"
PRICE_IDS = {"starter": "price_starter", "enterprise": "price_enterprise"}
PRICES = {"price_starter": 999, "price_enterprise": 4999}
MONTH_S = 30 * 86400


@dataclass
class _Hang:
    seconds: float
    after_work: bool


def _new(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`a[b][0][c]=1` form pairs → {"a": {"b": [{"c": "1"}]}} (lists where every key is an index)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        items = {k: listify(v) for k, v in node.items()}
        if items and all(k.isdigit() for k in items):
            return [items[k] for k in sorted(items, key=int)]
        return items

    return listify(root)


def stripe_signature(payload: bytes, *, timestamp: int | None = None, secret: str = WEBHOOK_SECRET) -> str:
    """The `Stripe-Signature` header Stripe would send for `payload`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class FakeStripe(FakeHTTPServer):
    """State and failure switches of the fake; serves at `url` once started."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}  # by session id
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.portals: list[dict[str, Any]] = []
        self.replies: dict[tuple[str, str], tuple[int, Any]] = {}
        self.failures: dict[str, list[int]] = {}
        self.hangs: dict[str, list[_Hang]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []  # every event ever queued (a retry resends one of them)
        self.in_flight: set[tuple[str, str]] = set()  # (kind, Idempotency-Key) of requests in progress
        self.key_conflicts = 0  # 409 idempotency_key_in_use answers given

    # -- control -----------------------------------------------------------------------------
    def fail_next(self, kind: str, status: int = 500, times: int = 1) -> None:
        """The next `times` calls of `kind` (e.g. "get_session") answer `status`."""
        with self.lock:
            self.failures.setdefault(kind, []).extend([status] * times)

    def hang_next(self, kind: str, seconds: float = 5.0, *, after_work: bool = True, times: int = 1) -> None:
        """The next calls of `kind` answer only after `seconds` (doing the work first if `after_work`)."""
        with self.lock:
            self.hangs.setdefault(kind, []).extend([_Hang(seconds, after_work)] * times)

    def session_for(self, client_reference_id: str) -> dict[str, Any]:
        """The session made for our payment or subscription id."""
        with self.lock:
            return next(s for s in self.sessions.values() if s["client_reference_id"] == client_reference_id)

    def pay(self, session_id: str, *, amount_total: int | None = None) -> dict[str, Any]:
        """The buyer pays the session (queues the events Stripe sends); the session afterwards."""
        with self.lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                return dict(session)
            if amount_total is not None:
                session["amount_total"] = amount_total
            session.update(status="complete", payment_status="paid")
            if session["mode"] == "payment":
                intent = _new("pi")
                session["payment_intent"] = intent
                self.charges[session_id] = {
                    "id": _new("ch"), "object": "charge", "payment_intent": intent,
                    "amount": session["amount_total"], "amount_refunded": 0, "currency": session["currency"],
                    "refunded": False, "refunds": {"object": "list", "data": []}, "metadata": {}}
                self._emit("checkout.session.completed", dict(session))
            else:
                sub = self._start_subscription(session)
                self._emit("customer.subscription.created", dict(sub))
                self._emit("checkout.session.completed", dict(session))
                self._emit("invoice.paid", self._invoice(sub))
            return dict(session)

    def refund(self, session_id: str, amount: int | None = None) -> dict[str, Any]:
        """Refund (part of) the session's charge; queues `charge.refunded`."""
        with self.lock:
            charge = self.charges[session_id]
            amount = charge["amount"] - charge["amount_refunded"] if amount is None else amount
            refund = {"id": _new("re"), "object": "refund", "amount": amount, "charge": charge["id"],
                      "currency": charge["currency"], "status": "succeeded"}
            charge["refunds"]["data"].insert(0, refund)
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
            return self._emit("charge.refunded", json.loads(json.dumps(charge)))

    def dispute(self, session_id: str) -> dict[str, Any]:
        """The buyer disputes the charge; queues `charge.dispute.created`."""
        with self.lock:
            charge = self.charges[session_id]
            return self._emit("charge.dispute.created", {
                "id": _new("dp"), "object": "dispute", "charge": charge["id"],
                "payment_intent": charge["payment_intent"], "amount": charge["amount"],
                "currency": charge["currency"], "status": "needs_response", "reason": "fraudulent"})

    def update_subscription(self, sub_id: str, status: str) -> dict[str, Any]:
        """The subscription's status changes at Stripe; queues `customer.subscription.updated`."""
        with self.lock:
            self.subscriptions[sub_id]["status"] = status
            return self._emit("customer.subscription.updated", dict(self.subscriptions[sub_id]))

    def delete_subscription(self, sub_id: str) -> dict[str, Any]:
        """The subscription ends; queues `customer.subscription.deleted`."""
        with self.lock:
            self.subscriptions[sub_id]["status"] = "canceled"
            return self._emit("customer.subscription.deleted", dict(self.subscriptions[sub_id]))

    def renew(self, sub_id: str) -> dict[str, Any]:
        """A new period is paid; queues `invoice.paid`."""
        with self.lock:
            return self._emit("invoice.paid", self._invoice(self.subscriptions[sub_id]))

    def take_events(self) -> list[dict[str, Any]]:
        """The queued events (in the order Stripe created them), emptying the queue."""
        with self.lock:
            events, self.outbox = self.outbox, []
            return events

    @staticmethod
    def delivery(event: dict[str, Any], *, age_s: float = 0,
                 valid: bool = True) -> tuple[bytes, dict[str, str]]:
        """The body and headers of one webhook delivery (`age_s` old; a wrong secret unless `valid`)."""
        body = json.dumps(event).encode()
        signature = stripe_signature(body, timestamp=int(time.time() - age_s),
                                     secret=WEBHOOK_SECRET if valid else "whsec_forged")
        return body, {"Stripe-Signature": signature, "Content-Type": "application/json"}

    def deliveries(self, *, twice: bool = False, reverse: bool = False) -> list[tuple[bytes, dict[str, str]]]:
        """Signed deliveries of the queued events: each twice (retries) and/or newest first."""
        events = self.take_events()
        if reverse:
            events.reverse()
        return [self.delivery(e) for e in events for _ in range(2 if twice else 1)]

    # -- protocol ----------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        """Decode a form-encoded request, answer it as Stripe would."""
        path, _, query = path.partition("?")
        if method == "GET" and path.startswith("/c/pay/"):
            return self._buyer_page(path.rsplit("/", 1)[1])
        if method == "GET" and path.startswith("/p/session/"):
            return self._portal_page(path.rsplit("/", 1)[1])
        params = _nest(parse_qsl(body.decode() or query, keep_blank_values=True))
        lowered = {k.lower(): v for k, v in headers.items()}
        kind = _kind(method, path)
        if kind == "unknown":
            return self.json(404, _error("invalid_request_error", "Unrecognized request URL.", code=None))
        status, payload, extra = self.respond(kind, path, lowered, params)
        return self.json(status, payload, {"Request-Id": _new("req"), **extra})

    def respond(self, kind: str, path: str, headers: dict[str, str],
                params: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        """Record the call, apply the failure switches, then do the work of its kind."""
        with self.lock:
            self.calls[kind] += 1
            self.requests.append({"kind": kind, "path": path, "headers": headers, "params": params})
            failures = self.failures.get(kind)
            status = failures.pop(0) if failures else None
            hangs = self.hangs.get(kind)
            hang = hangs.pop(0) if hangs else None
        if status is not None:
            kind_of = "api_error" if status >= 500 else "invalid_request_error"
            return status, _error(kind_of, "fake failure", code="rate_limit" if status == 429 else None), {}
        if hang and not hang.after_work:
            self.release.wait(hang.seconds)
        if headers.get("authorization") != f"Bearer {SECRET_KEY}":
            return 401, _error("invalid_request_error", "Invalid API Key provided.", code=None), {}
        key = headers.get("idempotency-key")
        with self.lock:
            if key and (kind, key) in self.replies:
                result = self.replies[(kind, key)]
                return result[0], result[1], {"Idempotent-Replayed": "true"}
            if key and (kind, key) in self.in_flight:
                self.key_conflicts += 1
                return 409, _error("idempotency_error", "There is currently another in-progress request "
                                   "using this Stripe-Idempotency-Key. Please try again later.",
                                   code="idempotency_key_in_use"), {}
            if key:
                self.in_flight.add((kind, key))
            result = getattr(self, f"_do_{kind}")(path, params)
        try:
            if hang and hang.after_work:
                self.release.wait(hang.seconds)
        finally:
            with self.lock:  # the answer is saved once the request is done, as Stripe saves it
                if key and result[0] < 300:
                    self.replies[(kind, key)] = result
                if key:
                    self.in_flight.discard((kind, key))
        return result[0], result[1], {}

    def _do_create_customer(self, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        customer = {"id": _new("cus"), "object": "customer", "email": params.get("email"),
                    "metadata": params.get("metadata") or {}, "created": int(time.time())}
        self.customers[customer["id"]] = customer
        return 200, customer

    def _do_create_session(self, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        items = params.get("line_items") or []
        if params.get("mode") not in ("payment", "subscription") or not items:
            return 400, _invalid("Missing mode or line_items.", code="parameter_missing")
        customer = params.get("customer")
        if customer and customer not in self.customers:
            return 400, _invalid(f"No such customer: '{customer}'")
        if params["mode"] == "payment":
            data = items[0]["price_data"]
            total, currency = int(data["unit_amount"]) * int(items[0].get("quantity", 1)), data["currency"]
        else:
            price = items[0]["price"]
            if price not in PRICES:
                return 400, _invalid(f"No such price: '{price}'")
            total, currency = PRICES[price], "usd"
        session_id = f"cs_test_{uuid.uuid4().hex[:24]}"
        self.sessions[session_id] = {
            "id": session_id, "object": "checkout.session", "mode": params["mode"], "status": "open",
            "payment_status": "unpaid", "amount_total": total, "currency": currency,
            "client_reference_id": params.get("client_reference_id"), "customer": customer,
            "metadata": params.get("metadata") or {}, "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"), "url": f"{self.url}/c/pay/{session_id}",
            "payment_intent": None, "subscription": None, "line_items_sent": items,
            "subscription_data": params.get("subscription_data") or {},
            "payment_intent_data": params.get("payment_intent_data") or {},
            "created": int(time.time()), "expires_at": int(time.time()) + 86400}
        return 200, self._public_session(session_id)

    def _public_session(self, session_id: str) -> dict[str, Any]:
        session = dict(self.sessions[session_id])
        for private in ("line_items_sent", "subscription_data", "payment_intent_data"):
            session.pop(private)
        return session

    def _do_get_session(self, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        session_id = path.rsplit("/", 1)[1]
        if session_id not in self.sessions:
            return 404, _error("invalid_request_error", f"No such checkout.session: '{session_id}'",
                               code="resource_missing")
        return 200, self._public_session(session_id)

    def _do_expire_session(self, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        session = self.sessions.get(path.split("/")[-2])
        if session is None:
            return 404, _error("invalid_request_error", "No such checkout.session", code="resource_missing")
        if session["status"] != "open":
            return 400, _error("invalid_request_error", "Only open sessions can be expired.",
                               code="checkout_session_not_open")
        session["status"] = "expired"
        return 200, self._public_session(session["id"])

    def _do_create_portal(self, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        customer = params.get("customer")
        if customer not in self.customers:
            return 400, _invalid(f"No such customer: '{customer}'")
        portal = {"id": _new("bps"), "object": "billing_portal.session", "customer": customer,
                  "return_url": params.get("return_url"), "url": f"{self.url}/p/session/{customer}"}
        self.portals.append(portal)
        return 200, portal

    def _do_get_payment_intent(self, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        intent_id = path.rsplit("/", 1)[1]
        session = next((s for s in self.sessions.values() if s["payment_intent"] == intent_id), None)
        if session is None:
            return 404, _invalid(f"No such payment_intent: '{intent_id}'")
        return 200, {"id": intent_id, "object": "payment_intent", "status": "succeeded",
                     "amount": session["amount_total"], "currency": session["currency"],
                     "metadata": (session["payment_intent_data"] or {}).get("metadata") or {}}

    def _do_get_subscription(self, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        sub = self.subscriptions.get(path.rsplit("/", 1)[1])
        if sub is None:
            return 404, _error("invalid_request_error", "No such subscription", code="resource_missing")
        return 200, sub

    def _do_cancel_subscription(self, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        sub = self.subscriptions.get(path.rsplit("/", 1)[1])
        if sub is None:
            return 404, _error("invalid_request_error", "No such subscription", code="resource_missing")
        if sub["status"] == "canceled":
            return 400, _error("invalid_request_error", "This subscription is already canceled.",
                               code="resource_missing")
        sub["status"] = "canceled"
        self._emit("customer.subscription.deleted", dict(sub))
        return 200, sub

    # -- helpers -----------------------------------------------------------------------------
    def _buyer_page(self, session_id: str) -> Answer:
        with self.lock:
            if session_id not in self.sessions:
                return 404, {"Content-Type": "text/plain"}, b"unknown session"
            session = self.pay(session_id)
        target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
        return 303, {"Location": target}, b""

    def _portal_page(self, customer: str) -> Answer:
        """The customer portal a browser is sent to: a page naming the customer, linking back."""
        with self.lock:
            portal = next((p for p in reversed(self.portals) if p["customer"] == customer), None)
        if portal is None:
            return 404, {"Content-Type": "text/plain"}, b"unknown portal session"
        back = html.escape(str(portal["return_url"] or ""), quote=True)
        page = (f"<!doctype html><title>Billing portal</title>"
                f"<h1>Billing portal of {html.escape(customer)}</h1>"
                f'<a href="{back}">Return to Muse</a>')
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()

    def _start_subscription(self, session: dict[str, Any]) -> dict[str, Any]:
        price = self.sessions[session["id"]]["line_items_sent"][0]["price"]
        end = int(time.time()) + MONTH_S
        sub = {"id": _new("sub"), "object": "subscription", "status": "active",
               "customer": session["customer"],
               "metadata": self.sessions[session["id"]]["subscription_data"].get("metadata") or {},
               "items": {"object": "list", "data": [{"id": _new("si"), "object": "subscription_item",
                                                     "price": {"id": price, "object": "price"},
                                                     "current_period_end": end}]}}
        self.subscriptions[sub["id"]] = sub
        session["subscription"] = sub["id"]
        return sub

    def _invoice(self, sub: dict[str, Any]) -> dict[str, Any]:
        return {"id": _new("in"), "object": "invoice", "status": "paid", "customer": sub["customer"],
                "billing_reason": "subscription_cycle", "amount_paid": PRICES.get(
                    sub["items"]["data"][0]["price"]["id"], 0), "currency": "usd",
                "parent": {"type": "subscription_details", "subscription_details": {
                    "subscription": sub["id"], "metadata": dict(sub.get("metadata") or {})}}}

    def _emit(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {"id": _new("evt"), "object": "event", "type": event_type, "api_version": "2025-06-30.basil",
                 "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
                 "data": {"object": json.loads(json.dumps(obj))}}
        self.outbox.append(event)
        self.history.append(event)
        return event


_ROUTES = [
    ("POST", r"/v1/customers", "create_customer"),
    ("POST", r"/v1/checkout/sessions", "create_session"),
    ("GET", r"/v1/checkout/sessions/[^/]+", "get_session"),
    ("POST", r"/v1/checkout/sessions/[^/]+/expire", "expire_session"),
    ("POST", r"/v1/billing_portal/sessions", "create_portal"),
    ("GET", r"/v1/subscriptions/[^/]+", "get_subscription"),
    ("GET", r"/v1/payment_intents/[^/]+", "get_payment_intent"),
    ("DELETE", r"/v1/subscriptions/[^/]+", "cancel_subscription"),
]


def _kind(method: str, path: str) -> str:
    for m, pattern, kind in _ROUTES:
        if m == method and re.fullmatch(pattern, path):
            return kind
    return "unknown"


def _error(kind: str, message: str, *, code: str | None) -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message, "param": None}}


def _invalid(message: str, *, code: str = "resource_missing") -> dict[str, Any]:
    return _error("invalid_request_error", message, code=code)
