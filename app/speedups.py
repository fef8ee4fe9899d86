"""Per-request work done once per process (issue 12), without changing what is sent.

- Quart-Schema converts every dict or list a view returns with `TypeAdapter(type(value))`,
  building a new pydantic adapter (its core schema) on every response (~0.3 ms here); the
  adapters are cached per type instead (`cache_type_adapters`).
- Response JSON is written by orjson (`OrjsonProvider`), with the stdlib provider's meaning and
  bytes: dates as HTTP dates (Flask's rule), keys sorted, non-ASCII escaped (by the stdlib
  encoder), anything orjson refuses (ints past 64 bits, `indent` requests) handed to the stdlib
  encoder. The factory installs it after Quart-Schema, which replaces `app.json` with its own.
- Quart calls `ensure_async` on every hook and view of every request, and each call asks
  `inspect.iscoroutinefunction` (~14 times a request); `MuseQuart` remembers the answer per
  function (Quart documents `ensure_async` as the method to override).
- Quart bounds the sending of each response (`RESPONSE_TIMEOUT`) with `asyncio.wait_for`, which on
  Python 3.11 runs the send in a task of its own: a third task per request beside Quart's receiver
  and handler. `MuseASGIHTTPConnection` bounds it with `asyncio.timeout` in the handler's task (the
  same limit, the same `TimeoutError` swallowed); `MuseRequest.get_data` does the same for the body
  (middlewares/body.py).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from flask.json.provider import DefaultJSONProvider
from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python
from quart import Quart, Request, Response
from quart.asgi import ASGIHTTPConnection, _handle_exception
from quart.typing import ASGISendCallable

if TYPE_CHECKING:
    from app.wiring import Container


class MuseASGIHTTPConnection(ASGIHTTPConnection):
    """Quart's HTTP connection, sending the response within `RESPONSE_TIMEOUT` in the handler's task."""

    async def handle_request(self, request: Request, send: ASGISendCallable) -> None:
        """Quart's `handle_request`, with `asyncio.timeout` in place of `asyncio.wait_for`."""
        try:
            response = await self.app.handle_request(request)
        except Exception as error:
            response = await _handle_exception(self.app, error)
        if isinstance(response, Response) and response.timeout != Ellipsis:
            timeout = response.timeout
        else:
            timeout = self.app.config["RESPONSE_TIMEOUT"]
        try:
            async with asyncio.timeout(timeout):
                await self._send_response(send, response)
        except TimeoutError:
            pass


class MuseQuart(Quart):
    """Quart whose `ensure_async` is decided once per plain function (hooks, views) and whose
    responses are sent without a task of their own; it also carries the process's container (set
    by the factory), typed, for the routes."""

    container: Container
    asgi_http_class = MuseASGIHTTPConnection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._made_async: weakref.WeakKeyDictionary[Callable[..., Any], Callable[..., Any]] = (
            weakref.WeakKeyDictionary())

    def ensure_async(self, func: Callable[..., Any]) -> Callable[..., Any]:  # type: ignore[override]
        """Quart's answer, remembered for plain functions (bound methods and partials are new
        objects on every call, so they are asked each time as before)."""
        if not inspect.isfunction(func):
            return super().ensure_async(func)
        made = self._made_async.get(func)
        if made is None:
            made = self._made_async[func] = super().ensure_async(func)
        return made

# dates and dataclasses through `default` (Flask's HTTP dates; dataclass fields sorted as the stdlib does)
_ORJSON_OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_DATACLASS)
_COMPACT = {"separators": (",", ":")}


@functools.lru_cache(maxsize=512)
def _cached_adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def cached_type_adapter(tp: Any, *args: Any, **kwargs: Any) -> TypeAdapter[Any]:
    """`TypeAdapter(tp)`, built once per hashable type (others, or with options, as before)."""
    if args or kwargs:
        return TypeAdapter(tp, *args, **kwargs)
    try:
        return _cached_adapter(tp)
    except TypeError:  # unhashable type expression
        return TypeAdapter(tp)


def cache_type_adapters() -> None:
    """Make Quart-Schema's conversions reuse one adapter per type (idempotent)."""
    from quart_schema import conversion

    conversion.TypeAdapter = cached_type_adapter  # type: ignore[assignment,misc]


class OrjsonProvider(DefaultJSONProvider):
    """Quart's JSON provider, serialising with orjson to the stdlib provider's bytes (falls back to it).

    Keys are sorted when `sort_keys` says so (Flask's default); an answer that is not pure ASCII goes
    to the stdlib encoder, which escapes it (`ensure_ascii`, Flask's default); values neither knows
    (pydantic models) are converted as Quart-Schema's provider converts them. Only float spelling may
    differ (`1e-05` is written `0.00001`: the same number)."""

    @staticmethod
    def default(o: Any) -> Any:
        """Flask's conversions (HTTP dates, decimals, UUIDs, dataclasses), then pydantic's."""
        try:
            return DefaultJSONProvider.default(o)
        except TypeError:
            return to_jsonable_python(o)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs == _COMPACT:  # what `response()` asks for out of debug mode
            option = _ORJSON_OPTIONS | orjson.OPT_SORT_KEYS if self.sort_keys else _ORJSON_OPTIONS
            try:
                out = orjson.dumps(obj, default=self.default, option=option)
            except TypeError:  # orjson.JSONEncodeError: e.g. an int past 64 bits
                pass
            else:
                if out.isascii() or not self.ensure_ascii:
                    return out.decode()
        return super().dumps(obj, **kwargs)
