"""What the chat wire fakes answer to tools and JSON output, as the real models would in shape.

    call = tool_to_call(tools, choice, answered)   # (name, arguments dict) or None
    text = json_text(schema, reply, override)       # the JSON answer of a JSON-mode request

A request with tools whose turns do not yet end with a tool result is answered with a call to
the forced tool (a named `tool_choice`, or the first one for `required` / `ANY`), else the first
tool, with arguments that fit its schema; `none` / `NONE` answers text. A JSON-mode request is
answered with `override` when a test set one (e.g. invalid JSON), else a value fitting the schema
(`{"answer": reply}` without one).
"""

from __future__ import annotations

import json
from typing import Any

from providers.local_json import example_of

Tool = tuple[str, dict[str, Any]]  # (name, JSON schema of the arguments)


def tool_to_call(tools: list[Tool], choice: str | None, answered: bool) -> tuple[str, dict[str, Any]] | None:
    """The call the fake model makes, or None (it answers text)."""
    if not tools or answered or choice in ("none", "NONE"):
        return None
    name = choice if choice and choice not in ("auto", "required", "AUTO", "ANY") else tools[0][0]
    schema = dict(tools).get(name) or {"type": "object"}
    arguments = example_of(schema, text="fake")
    return name, arguments if isinstance(arguments, dict) else {}


def json_text(schema: dict[str, Any] | None, reply: str, override: str | None) -> str:
    """The JSON answer text."""
    if override is not None:
        return override
    return json.dumps(example_of(schema, text=reply) if schema else {"answer": reply})
