"""OpenAI's error envelope for everything under /v1 (contract §12).

`{"error": {"message", "type", "param", "code"}, "request_id"}` with OpenAI's own statuses,
so the SDKs' exception classes and retry rules behave as they do against OpenAI: an invalid or
unsupported parameter is 400 (never 422, which /api/v1 answers), `param` naming it. The SDKs
raise by status and read `code`: 401 → `invalid_api_key`, 402 → `insufficient_quota`, 404 on a
model → `model_not_found`, 400 → `invalid_request_error`, 429 → `rate_limit_exceeded`; other
problems keep Muse's code (`provider_timeout`, `maintenance`, `idempotency_mismatch`…).
"""

from __future__ import annotations

from typing import Any

from services.platform.errors import AppError, NotFound

PREFIX = "/v1"

_CODES = {
    "unauthorized": "invalid_api_key",
    "insufficient_credits": "insufficient_quota",
    "validation_error": "invalid_request_error",
    "bad_request": "invalid_request_error",
    "rate_limited": "rate_limit_exceeded",
}


class ModelNotFound(NotFound):
    """A /v1 request names a model the catalogue does not have."""

    code, title = "model_not_found", "Model not found"


def is_openai_path(path: str) -> bool:
    """Whether `path` belongs to the OpenAI-compatible API."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def openai_status(status: int) -> int:
    """The status /v1 answers for a problem whose /api/v1 status is `status`."""
    return 400 if status == 422 else status


def _type(status: int) -> str:
    if status == 402:
        return "insufficient_quota"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def _param_and_message(error: AppError) -> tuple[str | None, str]:
    message = error.detail or error.title
    errors = error.extra.get("errors") or []
    if not errors:
        return None, message
    first = errors[0]
    loc = [str(part) for part in first.get("loc", []) if part not in ("body", "form")]
    param = ".".join(loc) or None
    detail = str(first.get("msg", ""))
    if not param:
        return None, message if detail in message else f"{message} {detail}".strip()
    return param, detail if loc[-1] in detail else f"Invalid `{param}`: {detail}"


def error_body(error: AppError, request_id: str | None, *, status: int) -> dict[str, Any]:
    """The OpenAI error envelope of `error` (`status`: its HTTP status, from app/problems.py)."""
    param, message = _param_and_message(error)
    param = error.extra.get("param", param)
    return {"error": {"message": message, "type": _type(status), "param": param,
                      "code": _CODES.get(error.code, error.code)},
            "request_id": request_id}
