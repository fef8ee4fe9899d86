"""Per-request work done once per process (issue 12), without changing what is sent.

- Quart-Schema converts every dict or list a view returns with `TypeAdapter(type(value))`,
  building a new pydantic adapter (its core schema) on every response (~0.3 ms here); the
  adapters are cached per type instead (`cache_type_adapters`).
- Response JSON is written by orjson (`OrjsonProvider`), with the stdlib provider's meaning:
  dates as HTTP dates (Flask's rule), non-string keys allowed, anything orjson refuses
  (ints past 64 bits, `indent`/`sort_keys` requests) handed to the stdlib encoder.
- Quart calls `ensure_async` on every hook and view of every request, and each call asks
  `inspect.iscoroutinefunction` (~14 times a request); `MuseQuart` remembers the answer per
  function (Quart documents `ensure_async` as the method to override).
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from flask.json.provider import DefaultJSONProvider
from pydantic import TypeAdapter
from quart import Quart

if TYPE_CHECKING:
    from app.wiring import Container


class MuseQuart(Quart):
    """Quart whose `ensure_async` is decided once per plain function (hooks, views); it also
    carries the process's container (set by the factory), typed, for the routes."""

    container: Container

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

_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


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
    """Quart's JSON provider, serialising with orjson (falls back to the stdlib encoder)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if not self.sort_keys and set(kwargs) <= {"separators"} and kwargs.get("separators", (",", ":")) == (
                ",", ":"):
            try:
                return orjson.dumps(obj, default=self.default, option=_ORJSON_OPTIONS).decode()
            except TypeError:  # orjson.JSONEncodeError: e.g. an int past 64 bits
                pass
        return super().dumps(obj, **kwargs)
