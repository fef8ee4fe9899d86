"""Query parameters: every one a client sends is honoured or refused by name (contract §1, §12).

A route's query parameters are declared once, by quart-schema's `@validate_querystring(Model)`,
which feeds both the OpenAPI document (one `in: query` parameter per field, under its alias) and
this check. Before the view of an API route (`/api/…`, `/v1/…`) runs:

- a parameter its model does not declare (or any parameter, when it declares none) is refused
  at `loc: ["query", name]`: 422 `validation_error` under /api/v1 ("Unknown field: name."), 400
  `invalid_request_error` with `param` under /v1 (app/problems.py);
- a single-valued parameter sent more than once (`?limit=5&limit=6`) is refused by name too, rather
  than one of its values being picked;
- the values are then quart-schema's to validate (errors at `["query", name]` as well).

Free query strings, by route kind: what is not an API route (the web app's HTML pages, `/assets`,
`/media/…`, `/s/<token>`, `/health`, `/metrics`, the API docs) is not checked, and an API route
marked `@foreign_query` is not either: its query string is composed by a payment provider, not by a
Muse client (the buyer's return from PayPal or Stripe, which must land whatever the provider
appends; the signed webhooks). Their declared parameters are still validated.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel
from quart import Quart, current_app, request
from quart_schema.validation import QUART_SCHEMA_QUERYSTRING_ATTRIBUTE

from controllers.openai_errors import is_openai_path
from controllers.schemas.base import failure
from middlewares.hooks import hooks_of
from services.platform.errors import ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])

FOREIGN_ATTR = "_muse_foreign_query"
API_PREFIX = "/api/"
_MULTI = (list, tuple, set, frozenset)


def foreign_query(fn: F) -> F:
    """Mark an API view whose query string a provider composes (a return URL, a webhook): parameters
    it does not declare are ignored rather than refused."""
    setattr(fn, FOREIGN_ATTR, True)
    return fn


def is_api_path(path: str) -> bool:
    """Whether `path` is one of the APIs' (whose query parameters are checked)."""
    return path.startswith(API_PREFIX) or is_openai_path(path)


def _multi_valued(annotation: Any) -> bool:
    if typing.get_origin(annotation) in _MULTI or annotation in _MULTI:
        return True
    return any(_multi_valued(arg) for arg in typing.get_args(annotation))


@cache
def declared_query(model: type | None) -> dict[str, bool]:
    """The query parameter names `model` declares (aliases as the document shows them) → whether
    each takes several values."""
    if model is None:
        return {}
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{model!r}: query models are pydantic models")
    fields = model.model_fields.items()
    return {field.alias or name: _multi_valued(field.annotation) for name, field in fields}


def _unknown(name: str) -> dict[str, Any]:
    return {"loc": ["query", name], "msg": f"Unknown field `{name}`: this endpoint does not take it."}


def refusals(args: Any, declared: dict[str, bool]) -> ValidationFailed | None:
    """The problem for query `args` (a MultiDict) against the `declared` parameters, if any."""
    unknown: list[dict[str, Any]] = []
    repeated: list[dict[str, Any]] = []
    for key in dict.fromkeys(args.keys()):
        name = key.removesuffix("[]")  # quart-schema reads `name[]` as `name`
        if name not in declared:
            unknown.append(_unknown(key))
            continue
        count = len(args.getlist(key))
        if count > 1 and not declared[name]:
            repeated.append({"loc": ["query", name],
                             "msg": f"`{name}` is given {count} times; it takes one value."})
    if unknown:
        return failure([*unknown, *repeated])
    if repeated:
        return ValidationFailed(f"Repeated query parameter: {repeated[0]['loc'][1]}.", errors=repeated)
    return None


async def check_query() -> None:
    """Refuse the query parameters an API route does not declare, or repeats of single-valued ones."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
    if not req.query_string or req.url_rule is None or req.method == "OPTIONS" or not is_api_path(req.path):
        return
    view = current_app.view_functions.get(req.endpoint or "")
    if view is None or getattr(view, FOREIGN_ATTR, False):
        return
    problem = refusals(req.args, declared_query(getattr(view, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None)))
    if problem is not None:
        raise problem


def check_models(app: Quart) -> None:
    """Every declared query model is one whose parameter names can be read (before serving)."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        declared_query(getattr(view, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None))


def install(app: Quart) -> None:
    """Check query parameters before the view (after authentication and rate limits)."""
    hooks_of(app).before(check_query)
    app.before_serving(lambda: check_models(app))
