"""Request bodies: what a route accepts, and how its JSON is read (contract §1 errors).

A route's body is declared once and feeds both the runtime check here and the
OpenAPI document (app/openapi.py):

- quart-schema's `@validate_request(Model)` declares a JSON body;
- `@request_body(multipart=Form, json=Model)` declares other or several media types
  (views that parse the body themselves, e.g. uploads).

Before such a view runs, a body of another media type (or none) answers 415
`unsupported_media_type`, and a JSON body is parsed once, strictly: empty,
not UTF-8, malformed or nested too deeply answers 422 `validation_error` with a
detail, never a 500. `MuseRequest.get_json` applies the same rules wherever it is called.

Every field a client sends is honoured or refused by name: a declared body model (and every
model nested in it) refuses unknown fields (controllers/schemas/base.py `RequestBody`), which
`check_models` verifies for every route before the app serves; a JSON object sent to a route
that takes no body is refused field by field, unless the view reads its raw bytes (`@raw_body`,
signed webhooks).
"""

from __future__ import annotations

import asyncio
import json
import typing
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, RootModel
from quart import Quart, Request, current_app, request
from quart_schema.validation import QUART_SCHEMA_REQUEST_ATTRIBUTE, DataSource
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestTimeout

from controllers.schemas.base import failure
from middlewares.hooks import hooks_of
from services.platform.errors import UnsupportedMediaType, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])

JSON = "application/json"
MULTIPART = "multipart/form-data"
FORM = "application/x-www-form-urlencoded"
BODY_ATTR = "_muse_request_body"
RAW_ATTR = "_muse_raw_body"
SIGNED_ATTR = "_muse_signed_body"
_SOURCES = {DataSource.JSON: JSON, DataSource.FORM_MULTIPART: MULTIPART, DataSource.FORM: FORM}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def request_body(*, json: type | None = None, multipart: type | None = None,
                 form: type | None = None) -> Callable[[F], F]:
    """Declare the body media types (and their models, for the document) a view parses itself."""
    declared = {media: model for media, model in ((JSON, json), (MULTIPART, multipart), (FORM, form))
                if model is not None}

    def decorate(fn: F) -> F:
        setattr(fn, BODY_ATTR, declared)
        return fn

    return decorate


def raw_body(fn: F) -> F:
    """Mark a view that reads its body as bytes itself (a signed webhook): its fields are not checked."""
    setattr(fn, RAW_ATTR, True)
    return fn


def signed_body(model: type) -> Callable[[F], F]:
    """A webhook's body: read as bytes by the view (`raw_body`, its signature covers them) and
    documented as `model`, the event its sender delivers (app/openapi.py)."""
    def decorate(fn: F) -> F:
        setattr(fn, SIGNED_ATTR, model)
        return raw_body(fn)

    return decorate


def signed_model(view: Callable[..., Any] | None) -> type | None:
    """The documented event of a view declared with `signed_body`, else None."""
    return getattr(view, SIGNED_ATTR, None)


def declared_body(view: Callable[..., Any] | None) -> dict[str, type]:
    """Media type → model of the body a view takes; empty when it takes none."""
    if view is None:
        return {}
    declared = getattr(view, BODY_ATTR, None)
    if declared:
        return dict(declared)
    schema = getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None)
    if schema is not None:
        model, source = schema
        return {_SOURCES.get(source, JSON): model}
    return {}


def _invalid(msg: str) -> ValidationFailed:
    return ValidationFailed(msg, errors=[{"loc": ["body"], "msg": msg}])


def parse_json(raw: bytes) -> Any:
    """The JSON value of a request body, or 422 with a detail saying what is wrong with it."""
    if not raw.strip():
        raise _invalid("The request body is empty; send a JSON object.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(f"The request body is not valid UTF-8 (byte {exc.start}).") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise _invalid("The JSON body is nested too deeply.") from None
    except ValueError as exc:
        raise _invalid(f"The request body is not valid JSON: {exc}.") from None


class LookupHeaders(Headers):
    """werkzeug's `Headers` whose `get` and `in` of a missing name return without raising.

    werkzeug answers both by catching the `BadRequestKeyError` its `__getitem__` raises, and a
    request asks for several headers it usually lacks (X-Request-ID, Origin, the RapidAPI ones):
    an exception built and caught each time (issue 12). Same answers, same case-insensitive
    first-match rule; everything else is werkzeug's."""

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]  # noqa: A002
        if not isinstance(key, str):
            return super().get(key, default, type)
        ikey = key.lower()
        for name, value in self._list:
            if name.lower() == ikey:
                if type is None:
                    return value
                try:
                    return type(value)
                except ValueError:
                    return default
        return default

    def __contains__(self, key: Any) -> bool:
        if not isinstance(key, str):
            return super().__contains__(key)
        ikey = key.lower()
        return any(name.lower() == ikey for name, _ in self._list)


class MuseRequest(Request):
    """Quart's request whose JSON parsing never raises anything but a problem, whose headers
    answer look-ups of missing names without an exception (`LookupHeaders`), and whose body is
    awaited within `BODY_TIMEOUT` without a task of its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if type(self.headers) is Headers:  # Quart builds a plain `Headers` per request: same data
            self.headers.__class__ = LookupHeaders

    async def get_data(  # type: ignore[override]
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> str | bytes:
        """Quart's `get_data`, bounded by `asyncio.timeout` where Quart's `asyncio.wait_for` runs the
        wait in a new task (on Python 3.11) even when the whole body has already arrived."""
        if parse_form_data:
            await self._load_form_data()
        try:
            async with asyncio.timeout(self.body_timeout):
                raw = await self.body
        except TimeoutError as exc:
            raise RequestTimeout() from exc
        if not cache:
            self.body.clear()
        return raw.decode() if as_text else raw

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if cache and self._cached_json[silent] is not Ellipsis:
            return self._cached_json[silent]
        if not (force or self.is_json):
            return None
        raw = await self.get_data(cache=cache, as_text=False)
        assert isinstance(raw, bytes)  # as_text=False
        try:
            result = parse_json(raw if isinstance(raw, bytes) else raw.encode())
        except ValidationFailed:
            if not silent:
                raise
            result = None
        if cache:
            self._cached_json[silent] = result
        return result

    def on_json_loading_failed(self, error: Exception) -> Any:
        raise _invalid("The request body is not valid JSON.")


def _nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _nested_models(arg)


def lax_models(model: type) -> list[str]:
    """The models in `model` (itself and every model in its fields) that would accept unknown fields."""
    lax: list[str] = []
    seen: set[type] = set()
    pending: list[type] = [model]
    while pending:
        current = pending.pop()
        if current in seen or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        seen.add(current)
        if not issubclass(current, RootModel) and current.model_config.get("extra") != "forbid":
            lax.append(current.__name__)
        for field in current.model_fields.values():
            pending.extend(_nested_models(field.annotation))
    return sorted(lax)


def check_models(app: Quart) -> None:
    """Refuse to serve a route whose body model would accept (and drop) fields it does not declare."""
    for rule in app.url_map.iter_rules():
        for media, model in declared_body(app.view_functions.get(rule.endpoint)).items():
            lax = lax_models(model)
            if lax:
                raise TypeError(f"{rule.rule} ({media}): {', '.join(lax)} would drop unknown fields; "
                                "derive request models from controllers.schemas.base.RequestBody")


def _media_matches(req: Request, declared: dict[str, type]) -> bool:
    if JSON in declared and req.is_json:
        return True
    return req.mimetype in declared


async def check_body() -> None:
    """415 for a body of an undeclared media type; parse a JSON body now (422 when broken)."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
    if req.method not in _BODY_METHODS:
        return
    view = current_app.view_functions.get(req.endpoint or "") if req.url_rule is not None else None
    if view is None:  # no route matched (404/405 follow)
        return
    declared = declared_body(view)
    if not declared:
        if req.is_json and not getattr(view, RAW_ATTR, False):
            await _no_fields(req)
        return
    if not _media_matches(req, declared):
        sent = req.mimetype or "no Content-Type"
        raise UnsupportedMediaType(f"This endpoint takes {' or '.join(declared)}; got {sent}.")
    if req.is_json:
        await req.get_json()


async def _no_fields(req: Request) -> None:
    """A route that takes no body refuses the fields of a JSON object sent to it."""
    value = await req.get_json(silent=True)
    if isinstance(value, dict) and value:
        raise failure([{"loc": [name], "msg": f"Unknown field `{name}`: this endpoint takes no body."}
                       for name in value])


def install(app: Quart) -> None:
    """Use MuseRequest and check bodies before the view (after authentication and rate limits);
    check every route's body models once before serving."""
    app.request_class = MuseRequest
    hooks_of(app).before(check_body)
    app.before_serving(lambda: check_models(app))
