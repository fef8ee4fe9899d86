"""Structured output (contract §18): an answer asked for as JSON must be JSON, and fit a strict schema.

An answer that does not is an incomplete answer: the provider's call counts as failed
(`ProviderError`), so the failover tries the next provider before anything was sent, the
charge is refunded when none answers, and it is never cached. Schemas are checked with
`jsonschema` (the Draft 2020-12 validator, as OpenAI's structured outputs use), imported on
the first schema checked: with `referencing`, `rpds` and its bundled meta-schemas it is ~70 ms of
start-up and ~2 MB of every process, for the few requests that send a schema (issue 28).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from services.chat.options import ChatOptions, ResponseFormat, Tool


@cache
def _draft() -> Any:
    """jsonschema's Draft 2020-12 validator class, imported on first use."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def schema_problem(schema: dict[str, Any]) -> str | None:
    """Why `schema` is not a usable JSON schema, or None (references must stay inside it: none fetched)."""
    from jsonschema.exceptions import SchemaError  # on first use too, as _draft() imports it

    try:
        _draft().check_schema(schema)
    except SchemaError as exc:
        return str(exc.message)
    remote = next((ref for ref in _refs(schema) if not ref.startswith("#")), None)
    if remote is not None:
        return f"$ref {remote!r} points outside the schema; only local references (#/…) are read"
    return None


def answer_problem(content: str, form: ResponseFormat) -> str | None:
    """Why `content` does not satisfy `form`, or None: not JSON, not an object, or off a strict schema."""
    try:
        value = json.loads(content)
    except ValueError:
        return "the answer is not valid JSON"
    if form.type == "json_object" and not isinstance(value, dict):
        return "the answer is JSON but not an object"
    if form.type == "json_schema" and form.strict and form.schema is not None:
        error = next(iter(_draft()(form.schema).iter_errors(value)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "the answer"
            return f"the answer does not fit the schema at {where}: {error.message}"
    return None


def completion_problem(content: str, options: ChatOptions, *, has_tool_calls: bool) -> str | None:
    """Why a whole answer is incomplete for `options` (structured output), or None."""
    if options.response_format is None or has_tool_calls:  # a tool call is not the final answer yet
        return None
    return answer_problem(content, options.response_format)


def fits(tool: Tool, arguments: str) -> bool:
    """Whether `arguments` (JSON text) is an object that fits `tool`'s parameter schema."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return False
    if not isinstance(value, dict):
        return False
    return not tool.parameters or _draft()(tool.parameters).is_valid(value)
