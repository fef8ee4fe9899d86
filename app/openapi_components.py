"""The fixed parts of the OpenAPI document (app/openapi.py completes every operation with them):
the problem schema and what each status means in Muse, OpenAI's error body for /v1, the shared
headers and parameters, and the media types of uploads and event streams."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"
# The error body of the OpenAI-compatible /v1 operations (contract section 12).
OPENAI_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "OpenAIError",
    "required": ["error"],
    "properties": {
        "error": {"$ref": "#/components/schemas/OpenAIErrorDetail"},
        "request_id": {"type": ["string", "null"]},
    },
}
OPENAI_ERROR_DETAIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "OpenAIErrorDetail",
    "required": ["message", "type"],
    "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                   "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}},
}
UPLOAD_TYPES = "image/png, image/jpeg, image/webp"
EVENT_STREAM = "text/event-stream"

# status → what it means in Muse (the codes of contract §1 and services/platform/errors.py)
PROBLEM_STATUSES: dict[int, str] = {
    400: "Bad request (`invalid_webhook`: the signature could not be verified)",
    401: "`unauthorized`: a valid credential is required",
    402: "`insufficient_credits` (or `payment_declined`)",
    403: "`forbidden` (role too low) or `account_disabled`",
    404: "`not_found` (also another user's resource)",
    409: "`conflict`, or `idempotency_in_flight` for a repeated `Idempotency-Key` still running",
    410: "`gone`",
    413: "`payload_too_large`",
    415: "`unsupported_media_type`",
    422: "`validation_error` (with `errors`), or `idempotency_mismatch`",
    429: "`rate_limited` (see `Retry-After`)",
    500: "`internal_error`",
    502: "`provider_unavailable`: no provider could serve the request (charge refunded)",
    503: "`maintenance`, `feature_disabled`, `service_unavailable` or `upstream_retryable`",
    504: "`provider_timeout` (charge refunded)",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details (contract §1).",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {"type": "object", "title": "ProblemError", "required": ["loc", "msg"], "properties": {
                "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                        "description": "Where: field names and list indexes."},
                "msg": {"type": "string"}}},
        },
    },
    "additionalProperties": True,
}

# one server-sent event (the schema applies to each event of the stream)
SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "`event: meta`, then `delta`…, then `done` (or `error` with a problem); `data` is JSON.",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"}},
}

HEADERS: dict[str, dict[str, Any]] = {
    "XRequestID": {"description": "The request ID (the caller's, when valid, else a new one).",
                   "schema": {"type": "string"}},
    "RetryAfter": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}},
    "Location": {"description": "URL of the resource.", "schema": {"type": "string"}},
    "RateLimitLimit": {"description": "Bucket size.", "schema": {"type": "string"}},
    "RateLimitRemaining": {"description": "Tokens left.", "schema": {"type": "string"}},
    "RateLimitReset": {"description": "Seconds until the bucket is full.", "schema": {"type": "string"}},
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "XRequestID": {
        "name": "X-Request-ID", "in": "header", "required": False,
        "description": "Kept when it matches `[A-Za-z0-9_-]{1,64}`, else replaced; echoed in the answer.",
        "schema": {"type": "string"},
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "Replays the first answer for 24 h instead of doing the work (and charging) again.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    },
}
