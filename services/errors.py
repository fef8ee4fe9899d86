"""The one error hierarchy of Muse. Framework-free: services raise these,
`app.problems` renders them as RFC 9457 `application/problem+json`.

    AppError (500 internal_error)
    ├── BadRequest (400 bad_request)
    │   └── InvalidWebhook (400 invalid_webhook)
    ├── Unauthorized (401 unauthorized)
    ├── InsufficientCredits (402 insufficient_credits)
    ├── Forbidden (403 forbidden)
    │   └── AccountDisabled (403 account_disabled)
    ├── NotFound (404 not_found)
    ├── MethodNotAllowed (405 method_not_allowed)
    ├── Conflict (409 conflict)
    │   └── IdempotencyInFlight (409 idempotency_in_flight)
    ├── Gone (410 gone)
    ├── PayloadTooLarge (413 payload_too_large)
    ├── UnsupportedMediaType (415 unsupported_media_type)
    ├── ValidationFailed (422 validation_error)
    │   └── IdempotencyMismatch (422 idempotency_mismatch)
    ├── RateLimited (429 rate_limited)
    ├── UpstreamError (502 provider_unavailable)
    │   ├── UpstreamTimeout (504 provider_timeout)
    │   └── UpstreamRetryable (503 upstream_retryable) – try again later
    ├── ServiceUnavailable (503 service_unavailable)
    │   ├── Maintenance (503 maintenance)
    │   └── FeatureDisabled (503 feature_disabled)
    └── InternalError (500 internal_error)
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error that leaves Muse as a problem response."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal server error"
    default_detail: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.detail or self.title)

    def to_problem(self, *, base_url: str, request_id: str | None) -> dict[str, Any]:
        """The RFC 9457 body for this error."""
        body: dict[str, Any] = {
            "type": f"{base_url}/problems/{self.code.replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "request_id": request_id,
        }
        if self.detail:
            body["detail"] = self.detail
        body.update(self.extra)
        return body


class BadRequest(AppError):
    status, code, title = 400, "bad_request", "Bad request"


class InvalidWebhook(BadRequest):
    code, title = "invalid_webhook", "Invalid webhook"


class Unauthorized(AppError):
    status, code, title = 401, "unauthorized", "Unauthorized"
    default_detail = "A valid credential is required."


class InsufficientCredits(AppError):
    status, code, title = 402, "insufficient_credits", "Insufficient credits"


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Forbidden"
    default_detail = "You are not allowed to do this."


class AccountDisabled(Forbidden):
    code, title = "account_disabled", "Account disabled"
    default_detail = "This account is disabled."


class NotFound(AppError):
    status, code, title = 404, "not_found", "Not found"
    default_detail = "The requested resource does not exist."


class MethodNotAllowed(AppError):
    status, code, title = 405, "method_not_allowed", "Method not allowed"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class IdempotencyInFlight(Conflict):
    code, title = "idempotency_in_flight", "Request in flight"
    default_detail = "A request with this Idempotency-Key is still being processed."


class Gone(AppError):
    status, code, title = 410, "gone", "Gone"


class PayloadTooLarge(AppError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class UnsupportedMediaType(AppError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class ValidationFailed(AppError):
    status, code, title = 422, "validation_error", "Validation error"

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail or "The request is not valid.", errors=errors or [])


class IdempotencyMismatch(AppError):
    status, code, title = 422, "idempotency_mismatch", "Idempotency key reused"
    default_detail = "This Idempotency-Key was used with a different request."


class RateLimited(AppError):
    status, code, title = 429, "rate_limited", "Too many requests"


class UpstreamError(AppError):
    status, code, title = 502, "provider_unavailable", "Provider unavailable"
    default_detail = "No provider could serve this request."


class UpstreamTimeout(UpstreamError):
    status, code, title = 504, "provider_timeout", "Provider timeout"
    default_detail = "The provider did not answer in time."


class UpstreamRetryable(UpstreamError):
    status, code, title = 503, "upstream_retryable", "Upstream temporarily unavailable"
    default_detail = "The upstream service did not answer; retry the request."


class ServiceUnavailable(AppError):
    status, code, title = 503, "service_unavailable", "Service unavailable"


class Maintenance(ServiceUnavailable):
    code, title = "maintenance", "Maintenance"
    default_detail = "Muse is under maintenance; please try again later."


class FeatureDisabled(ServiceUnavailable):
    code, title = "feature_disabled", "Feature disabled"


class InternalError(AppError):
    """An unexpected failure; its detail never carries exception text."""

    default_detail = "An unexpected error occurred."
