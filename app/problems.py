"""Renders every error as RFC 9457 `application/problem+json` (contract §1)."""

from __future__ import annotations

import json

import structlog
from pydantic import ValidationError
from quart import Quart, Response, current_app, has_request_context, request
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from controllers.openai_errors import error_body, is_openai_path
from middlewares.request_id import current_request_id
from services.errors import (
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

_HTTP_ERRORS: dict[int, type[AppError]] = {
    400: ValidationFailed,  # a body the framework could not read (contract: 422 validation_error)
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def problem_response(error: AppError) -> Response:
    """The problem+json response for `error` (OpenAI's error envelope under /v1, contract §12)."""
    if has_request_context() and is_openai_path(request.path):
        body = error_body(error, current_request_id())
        content_type = "application/json"
    else:
        settings = current_app.extensions["container"].settings
        body = error.to_problem(base_url=settings.public_base_url, request_id=current_request_id())
        content_type = "application/problem+json"
    response = Response(json.dumps(body), status=error.status, content_type=content_type)
    for name, value in error.headers.items():
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


# pydantic names the model class in these messages ("… instance of ChatIn"): say it in API terms.
_NOT_AN_OBJECT = {"model_type", "model_attributes_type", "dataclass_type", "dict_type"}


def _validation_errors(exc: Exception) -> list[dict]:
    if isinstance(exc, ValidationError):
        return [{"loc": list(e["loc"]) or ["body"],
                 "msg": "Input should be a JSON object" if e["type"] in _NOT_AN_OBJECT else e["msg"]}
                for e in exc.errors(include_url=False)]
    return [{"loc": ["body"], "msg": "Malformed request body."}]


def register_problem_handlers(app: Quart) -> None:
    """Install the error handlers; no error leaves Muse in another shape."""

    @app.errorhandler(AppError)
    async def app_error(error: AppError) -> Response:
        return problem_response(error)

    @app.errorhandler(RequestSchemaValidationError)
    async def schema_error(error: RequestSchemaValidationError) -> Response:
        return problem_response(ValidationFailed(errors=_validation_errors(error.validation_error)))

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        cls = _HTTP_ERRORS.get(status)
        if cls is None:
            problem = AppError(error.description)
            problem.status, problem.title = status, error.name
            problem.code = error.name.lower().replace(" ", "_")
        else:
            problem = cls()
        if status == 405 and getattr(error, "valid_methods", None):
            problem.headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return problem_response(problem)

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        store = backing_service_down(error)
        if store is not None:  # a hung or restarting store: the client may retry (contract §16)
            log.warning("backing_service_unavailable", store=store, error=type(error).__name__)
            return problem_response(ServiceUnavailable(
                "A storage service did not answer; retry shortly.", headers={"Retry-After": "2"}))
        log.error("unhandled_exception", exc_info=error)
        return problem_response(InternalError())
