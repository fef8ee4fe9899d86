"""The base of every request body, and the one translation of its validation errors.

House rule: every field a client sends is honoured or refused by name. A body model derives from
`RequestBody`, so a field it does not declare is a validation error at that field's location
(`loc: ["scopes"]`) rather than silently dropped; middlewares/body.py refuses to serve a route whose
declared body model (or a model nested in it) would accept unknown fields. Under /api/v1 the error
is a 422 `validation_error` problem, under /v1 a 400 `invalid_request_error` whose `param` names
the field (app/problems.py).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from services.platform.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)


# Integers a client sends are bounded (tests/api/test_openapi_document.py): token counts and seeds
# reach providers' int32 fields (Gemini's `seed`, `max_output_tokens`), credits a BSON int64.
INT32_MAX = 2**31 - 1
# A page cursor is the `next_cursor` of the page before (an id); query strings are bounded too.
CURSOR_MAX = 200


class RequestBody(BaseModel):
    """A request body (or a part of one): fields it does not declare are refused by name."""

    model_config = ConfigDict(extra="forbid")


# pydantic names the model class in these messages ("… instance of ChatIn"): say it in API terms.
_NOT_AN_OBJECT = {"model_type", "model_attributes_type", "dataclass_type", "dict_type"}


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        name = error["loc"][-1] if error["loc"] else "?"
        return f"Unknown field `{name}`: this endpoint does not take it."
    if kind in _NOT_AN_OBJECT:
        return "Input should be a JSON object"
    return str(error["msg"])


def problem_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as the contract's `errors: [{"loc", "msg"}]`, in API terms."""
    return [{"loc": list(error["loc"]) or ["body"], "msg": _message(error)}
            for error in exc.errors(include_url=False)]


def unknown_fields(errors: list[dict[str, Any]]) -> list[str]:
    """The dotted locations of the unknown fields among `errors` (a query parameter's without its
    leading `query`)."""
    return [".".join(str(part) for part in error["loc"][1 if error["loc"][:1] == ["query"] else 0:])
            for error in errors if str(error.get("msg", "")).startswith("Unknown field `")]


def failure(errors: list[dict[str, Any]]) -> ValidationFailed:
    """The 422 problem for `errors` (unknown fields first: a misspelt field is also reported as a
    missing one); its detail names the unknown fields, if any."""
    unknown = unknown_fields(errors)
    errors = sorted(errors, key=lambda error: not str(error.get("msg", "")).startswith("Unknown field `"))
    detail = (f"Unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}." if unknown
              else None)
    return ValidationFailed(detail, errors=errors)


def query_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`errors` of a query model, located as query parameters (`loc: ["query", name]`)."""
    return [{**error, "loc": ["query", *error["loc"]] if error["loc"] != ["body"] else ["query"]}
            for error in errors]


def validate_fields(model: type[M], raw: Any) -> M:
    """`model` validated from `raw` (fields a view parsed itself: forms, multipart), or the 422."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise failure(problem_errors(exc)) from exc


# "Says something": a character that is not whitespace as Python's str.strip() sees it. Spelled as a
# class of literal characters, since a JSON Schema pattern is ECMA-262, whose `\S` counts U+001C-U+001F
# and U+0085 as text (Python strips them) and U+FEFF as space (Python keeps it).
PY_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) \
    + "\u2028\u2029\u202f\u205f\u3000"
NONBLANK = f"[^{PY_SPACE}]"
