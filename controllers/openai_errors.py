"""OpenAI's error envelope for everything under /v1 (contract §12).

`{"error": {"message", "type", "param", "code"}, "request_id"}` with OpenAI's own statuses,
so the SDKs' exception classes and retry rules behave as they do against OpenAI:
- an invalid or unsupported parameter is 400 `invalid_request_error` (never 422, which /api/v1
  answers), `param` naming it;
- out of credits is OpenAI's quota answer, 429 with type and code `insufficient_quota` (402 under
  /api/v1) and `x-should-retry: false`: the SDKs raise `RateLimitError` at once, without retrying;
- 503 is retried by the SDKs: a transient one (maintenance, a store not answering) carries
  `Retry-After`, a feature switched off `x-should-retry: false`.
Codes: 401 `invalid_api_key`, 404 on a model `model_not_found`, 429 `rate_limit_exceeded`; other
problems keep Muse's code (`provider_timeout`, `maintenance`, `idempotency_mismatch`…).
"""

from __future__ import annotations

from typing import Any

from services.platform.errors import AppError, FeatureDisabled, InsufficientCredits, NotFound

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


SHOULD_RETRY = "x-should-retry"
# Answers a retry cannot change: the SDKs must raise them at once (they retry 429 and 5xx otherwise).
_FINAL = (InsufficientCredits, FeatureDisabled)


def openai_status(error: AppError, status: int) -> int:
    """The status /v1 answers for `error`, whose /api/v1 status is `status`."""
    if isinstance(error, InsufficientCredits):
        return 429
    return 400 if status == 422 else status


def openai_headers(error: AppError) -> dict[str, str]:
    """Headers OpenAI's SDKs read to decide on a retry (`x-should-retry: false` for a final answer)."""
    return {SHOULD_RETRY: "false"} if isinstance(error, _FINAL) else {}


def _type(error: AppError, status: int) -> str:
    if isinstance(error, InsufficientCredits):
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
    loc = [str(part) for part in first.get("loc", [])]
    loc = loc[1:] if loc[:1] in (["body"], ["form"], ["query"]) else loc  # where it was sent
    param = ".".join(loc) or None
    detail = str(first.get("msg", ""))
    if not param:
        return None, message if detail in message else f"{message} {detail}".strip()
    return param, detail if loc[-1] in detail else f"Invalid `{param}`: {detail}"


def error_body(error: AppError, request_id: str | None, *, status: int) -> dict[str, Any]:
    """The OpenAI error envelope of `error` (`status`: its HTTP status, from app/problems.py)."""
    param, message = _param_and_message(error)
    param = error.extra.get("param", param)
    return {"error": {"message": message, "type": _type(error, status), "param": param,
                      "code": _CODES.get(error.code, error.code)},
            "request_id": request_id}
