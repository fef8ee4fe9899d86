"""The Beanie document models registered with `init_beanie` (indexes included), and their base.

Every document derives from `MuseDocument`, which makes every datetime read from the
database a timezone-aware UTC datetime, whatever the server did with it:

- MongoDB 7 hands BSON dates back as datetimes (aware: the client uses `tz_aware=True`);
- nx-27017 (the embedded development/test server) hands back a datetime written by `$set`
  as a naive string ("2026-01-02 03:04:05.678000") and one written by `$push` as
  '{"$date": "..."}'.

The model's field types say where datetimes live: a value in a `datetime` field (also inside
nested models, lists and dicts of them) is parsed from any ISO form; inside untyped parts
(`dict[str, Any]`, or fields the model does not declare) only the two server forms above are
turned back into datetimes. This
applies to Beanie reads (a before-validator) and to raw PyMongo reads alike:
`get_pymongo_collection()` returns the collection wrapped so that documents read through
`find_one`, `find`, `find_one_and_*` and `aggregate` are converted, and `aware_database`
does the same for repositories that address collections by name.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from beanie import Document
from pydantic import BaseModel, model_validator

from repositories.grouped_inserts import for_collection

_SERVER_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")
_DATE_JSON = re.compile(r'^\{\s*"\$date"\s*:')


def aware(value: datetime) -> datetime:
    """`value` with UTC as its zone when it has none."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _from_date_json(value: str) -> datetime | None:
    try:
        inner = json.loads(value)["$date"]
    except (ValueError, KeyError, TypeError):
        return None
    if isinstance(inner, dict):
        inner = inner.get("$numberLong")
    if isinstance(inner, int | str) and str(inner).lstrip("-").isdigit():
        return datetime.fromtimestamp(int(inner) / 1000, UTC)
    return _parse(inner) if isinstance(inner, str) else None


def _parse(value: str) -> datetime | None:
    try:
        return aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def stored_datetime(value: Any, *, typed: bool = True) -> Any:
    """A datetime read back from the database, made aware. Strings are parsed when `typed` (the
    field is a datetime) or when they have one of the forms nx-27017 writes; else returned as is."""
    if isinstance(value, datetime):
        return aware(value)
    if isinstance(value, str):
        if _DATE_JSON.match(value):
            parsed = _from_date_json(value)
        elif typed or _SERVER_NAIVE.match(value):
            parsed = _parse(value)
        else:
            return value
        return parsed if parsed is not None else value
    return value


# A plan says where the datetimes of a value of some type are.
_DATETIME, _UNTYPED = "datetime", "untyped"
Plan = Any  # _DATETIME | _UNTYPED | ("fields", {name: Plan}) | ("items", Plan) | ("values", Plan) | None


def _plan(tp: Any) -> Plan:
    origin, args = get_origin(tp), get_args(tp)
    if tp is datetime:
        return _DATETIME
    if tp is Any or tp is object or tp in (dict, list):
        return _UNTYPED
    if origin is Annotated:
        return _plan(args[0])
    if origin in (Union, types.UnionType):
        plans = [p for a in args if a is not type(None) and (p := _plan(a)) is not None]
        if not plans:
            return None
        return plans[0] if len(plans) == 1 else _UNTYPED
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return model_plan(tp)
    if origin in (list, tuple, set, frozenset, Sequence):
        inner = _plan(args[0]) if args else _UNTYPED
        return ("items", inner) if inner is not None else None
    if origin in (dict, Mapping):
        inner = _plan(args[1]) if len(args) == 2 else _UNTYPED
        return ("values", inner) if inner is not None else None
    return None


@cache
def model_plan(model: type[BaseModel]) -> Plan:
    """Where the datetimes of `model`'s documents are (field names as stored: aliases)."""
    fields = model.model_fields.items()
    return ("fields", {info.alias or name: _plan(info.annotation) for name, info in fields})


def _untyped(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untyped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untyped(v) for v in value]
    return stored_datetime(value, typed=False)


def apply_plan(plan: Plan, value: Any) -> Any:
    """`value` (a stored document or part of one) with its datetimes made aware; new containers."""
    if plan is None or value is None:
        return value
    if plan == _DATETIME:
        return stored_datetime(value)
    if plan == _UNTYPED:
        return _untyped(value)
    kind, inner = plan
    if kind == "fields" and isinstance(value, Mapping):
        # a field the model does not declare is treated like an untyped one
        return {k: apply_plan(inner.get(k, _UNTYPED), v) for k, v in value.items()}
    if kind == "items" and isinstance(value, list | tuple):
        return [apply_plan(inner, v) for v in value]
    if kind == "values" and isinstance(value, Mapping):
        return {k: apply_plan(inner, v) for k, v in value.items()}
    return value


class _AwareCursor:
    """A PyMongo async cursor (or command cursor) whose documents come back converted."""

    def __init__(self, inner: Any, fix: Callable[[Any], Any]) -> None:
        self._inner, self._fix = inner, fix

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            return self if result is self._inner else result

        return call

    def __aiter__(self) -> _AwareCursor:
        return self

    async def __anext__(self) -> Any:
        return self._fix(await self._inner.__anext__())

    async def next(self) -> Any:
        return self._fix(await self._inner.next())

    async def try_next(self) -> Any:
        return self._fix(await self._inner.try_next())

    async def to_list(self, *args: Any, **kwargs: Any) -> list[Any]:
        return [self._fix(doc) for doc in await self._inner.to_list(*args, **kwargs)]

    def clone(self) -> _AwareCursor:
        return _AwareCursor(self._inner.clone(), self._fix)

    async def __aenter__(self) -> _AwareCursor:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> Any:
        return await self._inner.__aexit__(*exc)


class AwareCollection:
    """A PyMongo `AsyncCollection` whose reads return documents with aware datetimes."""

    def __init__(self, inner: Any, plan: Plan) -> None:
        self._inner, self._plan = inner, plan

    def _fix(self, doc: Any) -> Any:
        return apply_plan(self._plan, doc) if isinstance(doc, Mapping) else doc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def find_one(self, *args: Any, **kwargs: Any) -> Any:
        return self._fix(await self._inner.find_one(*args, **kwargs))

    async def find_one_and_update(self, *args: Any, **kwargs: Any) -> Any:
        return self._fix(await self._inner.find_one_and_update(*args, **kwargs))

    async def find_one_and_replace(self, *args: Any, **kwargs: Any) -> Any:
        return self._fix(await self._inner.find_one_and_replace(*args, **kwargs))

    async def find_one_and_delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._fix(await self._inner.find_one_and_delete(*args, **kwargs))

    def find(self, *args: Any, **kwargs: Any) -> _AwareCursor:
        return _AwareCursor(self._inner.find(*args, **kwargs), self._fix)

    async def aggregate(self, *args: Any, **kwargs: Any) -> _AwareCursor:
        return _AwareCursor(await self._inner.aggregate(*args, **kwargs), self._fix)

    def with_options(self, *args: Any, **kwargs: Any) -> AwareCollection:
        return AwareCollection(self._inner.with_options(*args, **kwargs), self._plan)


class AwareDatabase:
    """A PyMongo `AsyncDatabase` whose collections of Muse documents are `AwareCollection`s."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __getitem__(self, name: str) -> Any:
        model = _BY_COLLECTION.get(name)
        collection = self._inner[name]
        return AwareCollection(collection, model_plan(model)) if model else collection


# Every MuseDocument subclass by its collection name (filled as the classes are defined).
_BY_COLLECTION: dict[str, type[BaseModel]] = {}


class MuseDocument(Document):
    """Base of every Muse document: datetimes read back are always timezone-aware (see module doc)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        settings = cls.__dict__.get("Settings")
        if settings is not None and getattr(settings, "name", None):
            _BY_COLLECTION[settings.name] = cls

    @model_validator(mode="before")
    @classmethod
    def _aware_datetimes(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return apply_plan(model_plan(cls), data)  # type: ignore[arg-type]  # classes hash by identity
        return data

    async def insert_fields(self) -> None:
        """Insert this document as one `insert_one` of its fields by alias (`_id` first).

        Stores what Beanie's `insert()` stores for Muse documents (no event hooks, revisions or
        state management are used), without its per-call machinery: ~100 µs less CPU per write on
        the chat path (issue 12). A duplicate `_id` raises PyMongo's DuplicateKeyError. Inserts into the
        collection that come while one is under way go in one write (repositories/grouped_inserts.py)."""
        await for_collection(type(self).get_pymongo_collection()).insert([self.model_dump(by_alias=True)])

    @classmethod
    async def insert_all(cls, documents: list[Any]) -> None:
        """`insert_fields` of several documents of this model in one ordered `insert_many` (grouped
        with others' as `insert_fields` is)."""
        docs = [d.model_dump(by_alias=True) for d in documents]
        await for_collection(cls.get_pymongo_collection()).insert(docs)

    @classmethod
    def get_pymongo_collection(cls) -> Any:
        inner = super().get_pymongo_collection()
        cached = _AWARE_COLLECTIONS.get(cls)
        if cached is None or cached._inner is not inner:
            cached = _AWARE_COLLECTIONS[cls] = AwareCollection(inner, model_plan(cls))  # type: ignore[arg-type]
        return cached


_AWARE_COLLECTIONS: dict[type, AwareCollection] = {}
