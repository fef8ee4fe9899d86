"""The one error hierarchy of Muse. Framework-free: services raise these; each carries
a stable `code` (and a title), never an HTTP status. `app/problems.py` maps each code to
its HTTP status and renders RFC 9457 `application/problem+json`.

    AppError (internal_error)
    ├── BadRequest (bad_request)
    │   └── InvalidWebhook (invalid_webhook)
    ├── Unauthorized (unauthorized)
    │   └── ApiKeyExpired (api_key_expired)
    ├── InsufficientCredits (insufficient_credits)
    ├── Forbidden (forbidden)
    │   ├── AccountDisabled (account_disabled)
    │   └── ApiKeyScope, ApiKeyModel, ApiKeyIp (api_key_scope, api_key_model, api_key_ip)
    ├── NotFound (not_found)
    ├── MethodNotAllowed (method_not_allowed)
    ├── Conflict (conflict)
    │   ├── IdempotencyInFlight (idempotency_in_flight)
    │   └── PaymentRejected (payment_rejected)
    ├── Gone (gone)
    ├── PayloadTooLarge (payload_too_large)
    ├── UnsupportedMediaType (unsupported_media_type)
    ├── ValidationFailed (validation_error)
    │   └── IdempotencyMismatch (idempotency_mismatch)
    ├── RateLimited (rate_limited)
    │   └── ApiKeyCapReached (api_key_cap_reached)
    ├── UpstreamError (provider_unavailable)
    │   ├── UpstreamTimeout (provider_timeout)
    │   └── UpstreamRetryable (upstream_retryable) – try again later
    ├── ServiceUnavailable (service_unavailable)
    │   ├── Maintenance (maintenance)
    │   └── FeatureDisabled (feature_disabled)
    └── InternalError (internal_error)
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error that leaves Muse as a problem response."""

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


class BadRequest(AppError):
    code, title = "bad_request", "Bad request"


class InvalidWebhook(BadRequest):
    code, title = "invalid_webhook", "Invalid webhook"


class Unauthorized(AppError):
    code, title = "unauthorized", "Unauthorized"
    default_detail = "A valid credential is required."


class ApiKeyExpired(Unauthorized):
    code, title = "api_key_expired", "API key expired"
    default_detail = "This API key has expired."


class InsufficientCredits(AppError):
    code, title = "insufficient_credits", "Insufficient credits"


class Forbidden(AppError):
    code, title = "forbidden", "Forbidden"
    default_detail = "You are not allowed to do this."


class AccountDisabled(Forbidden):
    code, title = "account_disabled", "Account disabled"
    default_detail = "This account is disabled."


class ApiKeyScope(Forbidden):
    code, title = "api_key_scope", "Outside the API key's scopes"


class ApiKeyModel(Forbidden):
    code, title = "api_key_model", "Model not allowed for this API key"


class ApiKeyIp(Forbidden):
    code, title = "api_key_ip", "Client address not allowed for this API key"


class NotFound(AppError):
    code, title = "not_found", "Not found"
    default_detail = "The requested resource does not exist."


class MethodNotAllowed(AppError):
    code, title = "method_not_allowed", "Method not allowed"


class Conflict(AppError):
    code, title = "conflict", "Conflict"


class IdempotencyInFlight(Conflict):
    code, title = "idempotency_in_flight", "Request in flight"
    default_detail = "A request with this Idempotency-Key is still being processed."


class PaymentRejected(Conflict):
    """The processor refused the operation (not approved, already captured, declined...)."""

    code, title = "payment_rejected", "Payment rejected"

    def __init__(self, detail: str | None = None, *, issue: str | None = None, **extra: Any) -> None:
        super().__init__(detail, issue=issue, **extra)
        self.issue = issue


class Gone(AppError):
    code, title = "gone", "Gone"


class PayloadTooLarge(AppError):
    code, title = "payload_too_large", "Payload too large"


class UnsupportedMediaType(AppError):
    code, title = "unsupported_media_type", "Unsupported media type"


class ValidationFailed(AppError):
    code, title = "validation_error", "Validation error"

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail or "The request is not valid.", errors=errors or [])


class IdempotencyMismatch(AppError):
    code, title = "idempotency_mismatch", "Idempotency key reused"
    default_detail = "This Idempotency-Key was used with a different request."


class RateLimited(AppError):
    code, title = "rate_limited", "Too many requests"


class ApiKeyCapReached(RateLimited):
    code, title = "api_key_cap_reached", "API key spend cap reached"


class UpstreamError(AppError):
    code, title = "provider_unavailable", "Provider unavailable"
    default_detail = "No provider could serve this request."


class UpstreamTimeout(UpstreamError):
    code, title = "provider_timeout", "Provider timeout"
    default_detail = "The provider did not answer in time."


class UpstreamRetryable(UpstreamError):
    code, title = "upstream_retryable", "Upstream temporarily unavailable"
    default_detail = "The upstream service did not answer; retry the request."


class ServiceUnavailable(AppError):
    code, title = "service_unavailable", "Service unavailable"


class Maintenance(ServiceUnavailable):
    code, title = "maintenance", "Maintenance"
    default_detail = "Muse is under maintenance; please try again later."


class FeatureDisabled(ServiceUnavailable):
    code, title = "feature_disabled", "Feature disabled"


class InternalError(AppError):
    """An unexpected failure; its detail never carries exception text."""

    default_detail = "An unexpected error occurred."
