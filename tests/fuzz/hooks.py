"""Schemathesis hooks for Muse's fuzz run: make generated requests behave like a correct client
where JSON Schema cannot say what a valid request is, and keep every request on this machine.

- `Idempotency-Key`: a client sends a new key for each distinct request (reusing one with another
  body is a 422 `idempotency_mismatch` by contract), so each case gets a unique key.
- uploads (`image`, `mask`): the bytes must decode as PNG/JPEG/WebP (else 415): a real PNG is sent.
- `image_url`: points at a picture Muse itself serves, so no generated URL is ever fetched.
- image parts of chat turns (`image_url.url`, `input_image.image_url`): the document gives their
  forms (a `pattern`); a correct client sends an image in them, so a generated `data:` URL carries a
  real PNG and an http(s) URL points at Muse's own picture (nothing leaves this machine), and it
  sends at most `CHAT_MAX_IMAGES` (8) per request (a sum over turns, which no schema can bound).
- chat bodies (`tools`, `tool_choice`, `response_format`, `tool` turns; contract §18): a correct
  client names only tools it sends, sends JSON schemas that are JSON schemas, and answers only
  tool calls it was given; `chat_client_fixes` makes a generated body do the same
  (`responses_client_fixes` for a Responses body).
- webhooks (contract §§8, 14): a delivery is valid only with its sender's signature over its bytes
  (an HMAC no schema can describe), so `sign_delivery` signs a generated event as Stripe (with the
  fake's STRIPE_WEBHOOK_SECRET the fuzzed process runs with) or Svix for Clerk (CLERK_SECRET) does.
  PayPal is not configured in the fuzzed process (Stripe is its processor): its webhook answers the
  documented 503 (payments not configured) to any delivery.
- API-key limits (contract §19): a correct client names catalogue models, a future `expires_at`
  and networks in `allowed_ips`; `/api/v1/usage` asks for a period of at most 366 days, `from`
  before `to` (`key_and_usage_fixes`; usage and admin analytics).
"""

from __future__ import annotations

import base64
import io
import json
import os
import time
import uuid
from typing import Any

import schemathesis

BASE_URL = os.environ.get("MUSE_FUZZ_BASE_URL", "http://127.0.0.1:8000")
# the fuzzed process's CLERK_WEBHOOK_SECRET (Svix secrets are `whsec_` + base64 of the key)
CLERK_SECRET = "whsec_" + base64.b64encode(b"muse-fuzz-clerk-webhook-secret!!").decode()


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Runs before every request of every phase; negative cases are left exactly as generated."""
    meta = case.meta
    if meta is not None and (meta.generation.mode.is_negative
                             or any(c.mode.is_negative for c in meta.components.values())):
        return
    if case.path == "/api/v1/admin/settings" and isinstance(case.body, dict):
        # the admin run must not switch the API it is testing off (maintenance, features)
        case.body.update({k: v for k, v in (("maintenance_mode", False), ("chat_enabled", True),
                                            ("images_enabled", True)) if k in case.body})
        if isinstance(case.body.get("providers"), dict):
            case.body["providers"] = {k: True for k in case.body["providers"]}
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4().hex}"
    body = case.body
    if isinstance(body, dict) and case.path in ("/v1/chat/completions", "/api/v1/chat"):
        chat_client_fixes(body)
    if isinstance(body, dict) and case.path in ("/v1/chat/completions", "/api/v1/chat", "/v1/responses"):
        image_client_fixes(body)
    if isinstance(body, dict) and case.path == "/v1/responses":
        responses_client_fixes(body)
    key_and_usage_fixes(case)
    if isinstance(body, dict) and case.path.startswith("/api/v1/webhooks/"):
        sign_delivery(case, body)
    if isinstance(body, dict):
        for name in ("image", "mask"):
            value = body.get(name)
            # a generated file (bytes, or a file of schemathesis' fuzz dictionary), not a wrong type
            if value is not None and not isinstance(value, str | int | float | bool | dict | list):
                body[name] = PNG
        if isinstance(body.get("image_url"), str):
            body["image_url"] = f"{BASE_URL}/docs/assets/favicon-32x32.png"


def chat_client_fixes(body: dict[str, Any]) -> None:
    """What JSON Schema cannot say about a chat body, done as a correct client does it."""
    from services.chat.structured import schema_problem

    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    names: list[str] = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict):
            continue
        if isinstance(function.get("name"), str) and function["name"] in names:
            function["name"] = f"t{index}"  # tool names are unique
        names.append(function.get("name"))
        if isinstance(function.get("parameters"), dict) and schema_problem(function["parameters"]):
            function["parameters"] = {"type": "object"}
    choice = body.get("tool_choice")
    named = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    if (choice == "required" and not names) or (isinstance(choice, dict) and named not in names):
        body["tool_choice"] = "auto"
    form = body.get("response_format")
    spec = form.get("json_schema") if isinstance(form, dict) else None
    if isinstance(spec, dict) and isinstance(spec.get("schema"), dict) and schema_problem(spec["schema"]):
        spec["schema"] = {"type": "object"}
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    def says(m: Any) -> bool:
        return isinstance(m, dict) and (m.get("role") in ("user", "tool") or (
            m.get("role") == "assistant" and bool(m.get("content") or m.get("tool_calls"))))

    if messages and not any(says(m) for m in messages):
        messages.append({"role": "user", "content": "a question"})  # a chat asks something
    called: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        parts = message.get("content") if isinstance(message.get("content"), list) else None
        blank = [isinstance(p, dict) and p.get("type") == "text" and not str(p.get("text", "")).strip()
                 for p in parts or ()]
        if blank and all(blank):
            message["content"] = "a question"  # a message says something
        calls = message.get("tool_calls") if isinstance(message.get("tool_calls"), list) else []
        called += [c["id"] for c in calls if isinstance(c, dict) and isinstance(c.get("id"), str)]
        if message.get("role") == "tool" and message.get("tool_call_id") not in called:
            if called:
                message["tool_call_id"] = called[-1]  # a result answers a call that was made
            else:
                message["role"] = "user"
                message.pop("tool_call_id", None)
                message["content"] = message.get("content") or "a question"


def responses_client_fixes(body: dict[str, Any]) -> None:
    """A Responses body as a correct client sends it: a tool call only asked for with tools, and a
    `function_call_output` only for a call the input made (a reference no schema can express)."""
    from services.chat.structured import schema_problem

    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    names: list[str] = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict):
            continue
        if tool.get("name") in names:
            tool["name"] = f"t{index}"  # tool names are unique
        names.append(tool.get("name"))
        if isinstance(tool.get("parameters"), dict) and schema_problem(tool["parameters"]):
            tool["parameters"] = {"type": "object"}
    choice = body.get("tool_choice")
    if (choice == "required" and not names) or (isinstance(choice, dict) and choice.get("name") not in names):
        body["tool_choice"] = "auto"  # a correct client asks for a tool call only with that tool
    text = body.get("text")
    form = text.get("format") if isinstance(text, dict) else None
    if isinstance(form, dict) and isinstance(form.get("schema"), dict) and schema_problem(form["schema"]):
        form["schema"] = {"type": "object"}
    items = body.get("input") if isinstance(body.get("input"), list) else []
    called: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call" and isinstance(item.get("call_id"), str):
            called.append(item["call_id"])
        elif item.get("type") == "function_call_output" and item.get("call_id") not in called:
            if called:
                item["call_id"] = called[-1]
            else:
                items[index] = {"type": "message", "role": "user", "content": "a question"}


CHAT_MAX_IMAGES = 8  # the default, which the fuzzed process runs with
PNG_DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


def _image_url(url: str) -> str:
    """The image a correct client sends in place of a generated URL of the same documented form."""
    if url.startswith("data:"):
        return PNG_DATA_URL
    if url.startswith(("http://", "https://")):
        return f"{BASE_URL}/docs/assets/favicon-32x32.png"
    return url  # muse://images/…: one of the caller's images, or a 404 naming the part


def image_client_fixes(body: dict[str, Any]) -> None:
    """Image parts of a chat body (messages or Responses input items) as a correct client sends them."""
    turns = body.get("messages", body.get("input"))
    count = 0
    for turn in turns if isinstance(turns, list) else ():
        parts = turn.get("content") if isinstance(turn, dict) else None
        for index, part in enumerate(parts if isinstance(parts, list) else ()):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in ("image_url", "image", "input_image"):
                continue
            count += 1
            if count > CHAT_MAX_IMAGES:
                text = "input_text" if kind == "input_image" else "text"
                parts[index] = {"type": text, "text": "a picture"}
                continue
            spec = part.get("image_url")
            if isinstance(spec, dict) and isinstance(spec.get("url"), str):
                spec["url"] = _image_url(spec["url"])
            elif kind == "input_image" and isinstance(spec, str):
                part["image_url"] = _image_url(spec)


def sign_delivery(case: Any, event: dict[str, Any]) -> None:
    """Sign a generated event as its sender does, over the bytes schemathesis sends (requests'
    `json=`: `json.dumps(body, allow_nan=False)`, UTF-8)."""
    from datetime import UTC, datetime

    from svix.webhooks import Webhook

    from tests.fakes.stripe import stripe_signature

    payload = json.dumps(event, allow_nan=False)
    headers = case.headers if case.headers is not None else {}
    if case.path == "/api/v1/webhooks/stripe":
        headers["Stripe-Signature"] = stripe_signature(payload.encode())
    elif case.path == "/api/v1/webhooks/clerk":
        msg_id, now = f"msg_{uuid.uuid4().hex}", int(time.time())
        signature = Webhook(CLERK_SECRET).sign(msg_id, datetime.fromtimestamp(now, UTC), payload)
        headers.update({"svix-id": msg_id, "svix-timestamp": str(now), "svix-signature": signature})
    case.headers = headers


def key_and_usage_fixes(case: Any) -> None:
    """What JSON Schema cannot say about API-key limits and usage periods, done as a client does it."""
    import ipaddress
    from datetime import UTC, date, datetime, timedelta

    body = case.body
    if case.path.startswith("/api/v1/api-keys") and isinstance(body, dict):
        if isinstance(body.get("models"), list):
            body["models"] = ["default"]
        if body.get("expires_at") is not None:
            body["expires_at"] = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        if isinstance(body.get("allowed_ips"), list):
            networks = []
            for entry in body["allowed_ips"]:
                try:
                    networks.append(str(ipaddress.ip_network(entry, strict=False)))
                except (TypeError, ValueError):
                    networks.append("127.0.0.1/32")
            body["allowed_ips"] = networks
    query = case.query
    if case.path in ("/api/v1/usage", "/api/v1/admin/analytics") and isinstance(query, dict):
        days = []
        for name in ("from", "to"):
            try:
                days.append(date.fromisoformat(query[name]))
            except (KeyError, TypeError, ValueError):
                pass
        if len(days) == 2 and 0 <= (days[1] - days[0]).days <= 366:
            return
        if days:  # one end alone (the other defaults) or a bad period: ask for one day
            query["from"] = query["to"] = min(days).isoformat()


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but two of multipart forms, which JSON Schema cannot express. (An option
    no configured provider honours, e.g. `logprobs` here, is documented as refused: app/openapi.py.)

    A negative case whose violation is a `null` form field: a form has no null; it goes on the
    wire as an empty field, which the documented form accepts (an omitted optional field), so
    nothing invalid reached Muse."""
    multipart = (case.media_type or "").startswith("multipart/")
    nulls = isinstance(case.body, dict) and any(v is None for v in case.body.values())
    if multipart and nulls and "Schema-violating" in (failure.title or ""):
        return False
    # The document gives each upload part `encoding.contentType: image/png, image/jpeg, image/webp`;
    # schemathesis checks the body against the JSON Schema only and uploads random bytes as the file
    # (its `Binary` is a str, so the hook's real-image swap cannot reach it without the changed body
    # being judged again as schema-violating): Muse's 415 for bytes that are no image is the
    # documented answer, not a rejected valid request.
    return not (multipart and response.status_code == 415 and "Schema-valid" in (failure.title or ""))
