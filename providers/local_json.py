"""Schema-fitting example values for the offline `local` chat provider (tool arguments, JSON answers)."""

from __future__ import annotations

from typing import Any


def example_of(schema: dict[str, Any] | None, *, text: str = "local", depth: int = 0) -> Any:
    """A small value that fits `schema` (enums, consts, types, required properties, array bounds)."""
    if not isinstance(schema, dict) or depth > 8:
        return text
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return example_of(schema[key][0], text=text, depth=depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties") or {}
        return {name: example_of(sub, text=name if name != "answer" else text, depth=depth + 1)
                for name, sub in properties.items()}
    if kind == "array":
        return [example_of(schema.get("items"), text=text, depth=depth + 1)
                for _ in range(max(1, int(schema.get("minItems", 1))))]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1) if "maximum" not in schema else int(schema["maximum"])
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    value = text
    if "minLength" in schema:
        value = value.ljust(int(schema["minLength"]), "x")
    return value[: int(schema["maxLength"])] if "maxLength" in schema else value
