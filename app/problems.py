"""Renders every error as RFC 9457 `application/problem+json` (contract §1).

Errors carry a `code` (services/platform/errors.py); this module alone knows the HTTP status of
each code. An error class whose code is not listed takes the status of its nearest
listed base class (a new `Conflict` subclass answers 409).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import structlog
from pydantic import ValidationError
from quart import Quart, Response, has_request_context, request
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import QuerystringValidationError
from werkzeug.exceptions import HTTPException

from controllers.openai_errors import error_body, is_openai_path, openai_headers, openai_status
from controllers.schemas.base import failure, problem_errors, query_errors
from middlewares.request_id import current_request_id
from services.platform.errors import (
    AppError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)

log = structlog.stdlib.get_logger("muse.errors")

STATUS_BY_CODE: dict[str, int] = {
    "bad_request": 400,
    "invalid_webhook": 400,
    "unauthorized": 401,
    "api_key_expired": 401,
    "insufficient_credits": 402,
    "payment_declined": 402,
    "forbidden": 403,
    "account_disabled": 403,
    "api_key_scope": 403,
    "api_key_model": 403,
    "api_key_ip": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "idempotency_in_flight": 409,
    "payment_rejected": 409,
    "payment_flagged": 409,
    "gone": 410,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "validation_error": 422,
    "idempotency_mismatch": 422,
    "rate_limited": 429,
    "api_key_cap_reached": 429,
    "internal_error": 500,
    "provider_unavailable": 502,
    "upstream_retryable": 503,
    "service_unavailable": 503,
    "maintenance": 503,
    "feature_disabled": 503,
    "provider_timeout": 504,
}

_HTTP_ERRORS: dict[int, type[AppError]] = {
    400: ValidationFailed,  # a body the framework could not read (contract: 422 validation_error)
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def status_of(error: AppError | str) -> int:
    """The HTTP status of an error (or of an error code)."""
    if isinstance(error, str):
        return STATUS_BY_CODE.get(error, 500)
    for code in (error.code, *(getattr(cls, "code", None) for cls in type(error).__mro__)):
        if isinstance(code, str) and code in STATUS_BY_CODE:
            return STATUS_BY_CODE[code]
    return 500


def problem_body(error: AppError, *, status: int, base_url: str, request_id: str | None) -> dict[str, Any]:
    """The RFC 9457 body for `error`."""
    body: dict[str, Any] = {
        "type": f"{base_url}/problems/{error.code.replace('_', '-')}",
        "title": error.title,
        "status": status,
        "code": error.code,
        "request_id": request_id,
    }
    if error.detail:
        body["detail"] = error.detail
    body.update(error.extra)
    return body


def _problem_response(error: AppError, *, base_url: str, status: int | None = None) -> Response:
    """The problem+json response for `error` (`status` defaults to its code's; its `type` under
    `base_url`); OpenAI's error envelope under /v1 (contract §12)."""
    status = status if status is not None else status_of(error)
    headers = error.headers
    if has_request_context() and is_openai_path(request.path):
        status = openai_status(error, status)
        body = error_body(error, current_request_id(), status=status)
        content_type = "application/json"
        headers = {**headers, **openai_headers(error)}
    else:
        body = problem_body(error, status=status, base_url=base_url,
                            request_id=current_request_id())
        content_type = "application/problem+json"
    response = Response(json.dumps(body), status=status, content_type=content_type)
    for name, value in headers.items():
        response.headers[name] = value
    return response


def backing_service_down(error: BaseException) -> str | None:
    """`mongo`/`redis` when `error` says that store is unreachable or did not answer in time."""
    from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(error, ConnectionFailure | ExecutionTimeout | WTimeoutError) or (
            isinstance(error, PyMongoError) and error.timeout):
        return "mongo"
    if isinstance(error, RedisConnectionError | RedisTimeoutError):
        return "redis"
    return None


def register_problem_handlers(app: Quart, *, base_url: str) -> None:
    """Install the error handlers; no error leaves Muse in another shape."""
    problem_response = functools.partial(_problem_response, base_url=base_url)

    @app.errorhandler(AppError)
    async def app_error(error: AppError) -> Response:
        return problem_response(error)

    @app.errorhandler(RequestSchemaValidationError)
    async def schema_error(error: RequestSchemaValidationError) -> Response:
        exc = error.validation_error
        in_query = isinstance(error, QuerystringValidationError)  # located as `["query", name]`
        if isinstance(exc, ValidationError):
            errors = problem_errors(exc)
            return problem_response(failure(query_errors(errors) if in_query else errors))
        where = "query string" if in_query else "request body"
        return problem_response(failure([{"loc": ["query" if in_query else "body"],
                                          "msg": f"Malformed {where}."}]))

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        cls = _HTTP_ERRORS.get(status)
        if cls is None:
            problem = AppError(error.description)
            problem.title = error.name
            problem.code = error.name.lower().replace(" ", "_")
        else:
            problem = cls()
        valid_methods = getattr(error, "valid_methods", None)
        if status == 405 and valid_methods:
            problem.headers["Allow"] = ", ".join(sorted(valid_methods))
        return problem_response(problem, status=status)

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        store = backing_service_down(error)
        if store is not None:  # a hung or restarting store: the client may retry (contract §16)
            log.warning("backing_service_unavailable", store=store, error=type(error).__name__)
            return problem_response(ServiceUnavailable(
                "A storage service did not answer; retry shortly.", headers={"Retry-After": "2"}))
        log.error("unhandled_exception", exc_info=error)
        return problem_response(InternalError())
