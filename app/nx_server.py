"""The embedded MongoDB-wire server (nx-27017 0.8.1 on neosqlite 1.17.2), with one fix: dotted paths
in the update operators of neosqlite's Python fallback.

neosqlite applies an update in SQL (`json_set`) while it fits SQLite's limit on a function's
arguments; past about 63 fields (a merged charge parking 60 ops, a slot clean-up unsetting as many:
services/credits/combine.py) it applies it in Python, where only `$set` follows dotted paths.
`$inc: {"allowance.used": 23}` there added a top-level field literally named "allowance.used" and
left the allowance as it was: the account served charges it had no allowance left for. `$unset` of
"pending.<slot>" removed nothing. MongoDB applies both to the nested field, so this launcher does
too, before handing the rest of the update to neosqlite. Run as a script (`python -P
app/nx_server.py <nx-27017 arguments>`: -P keeps app/ off sys.path, where app/logging.py would
shadow the standard library's), so the server process does not import the app.
"""

from __future__ import annotations

import sys
from copy import deepcopy
from typing import Any

from neosqlite.collection.query_helper.update_operations import UpdateOperationsMixin

NESTED_OPS = ("$inc", "$unset", "$mul", "$min", "$max")


def _parent(doc: dict[str, Any], path: str, *, create: bool) -> tuple[dict[str, Any] | None, str]:
    """The document holding the last part of dotted `path`, and that part (None if absent)."""
    *parents, last = path.split(".")
    current: Any = doc
    for part in parents:
        if not isinstance(current, dict):
            return None, last
        if part not in current:
            if not create:
                return None, last
            current[part] = {}
        current = current[part]
    return (current if isinstance(current, dict) else None), last


def apply_nested(doc: dict[str, Any], op: str, path: str, value: Any) -> None:
    """Apply one `op` (NESTED_OPS) to the field at dotted `path` of `doc`, as MongoDB does."""
    holder, last = _parent(doc, path, create=op != "$unset")
    if holder is None:
        return
    if op == "$unset":
        holder.pop(last, None)
    elif op == "$inc":
        holder[last] = holder.get(last, 0) + value
    elif op == "$mul":
        holder[last] = holder.get(last, 0) * value
    elif op == "$min":
        if last not in holder or holder[last] > value:
            holder[last] = value
    elif op == "$max" and (last not in holder or holder[last] < value):
        holder[last] = value


def nested_first(original):  # type: ignore[no-untyped-def]
    """Wrap neosqlite's `_perform_python_update`: dotted NESTED_OPS fields are applied here."""
    def perform(self, doc_id, update_spec, original_doc, array_filters=None, query_filter=None):  # type: ignore[no-untyped-def]
        nested = {op: {k: v for k, v in fields.items() if "." in k and "$" not in k}
                  for op, fields in update_spec.items() if op in NESTED_OPS and isinstance(fields, dict)}
        nested = {op: fields for op, fields in nested.items() if fields}
        if not nested:
            return original(self, doc_id, update_spec, original_doc, array_filters, query_filter)
        start = deepcopy(original_doc)
        for op, fields in nested.items():
            for path, value in fields.items():
                apply_nested(start, op, path, value)
        rest = {op: ({k: v for k, v in fields.items() if k not in nested[op]} if op in nested else fields)
                for op, fields in update_spec.items()}
        rest = {op: fields for op, fields in rest.items() if fields} or {"$set": {}}
        updated, _ = original(self, doc_id, rest, start, array_filters, query_filter)
        return updated, updated != original_doc

    return perform


def patch() -> None:
    UpdateOperationsMixin._perform_python_update = nested_first(  # type: ignore[method-assign]
        UpdateOperationsMixin._perform_python_update)


if __name__ == "__main__":
    patch()
    from nx_27017.nx_27017 import main

    sys.exit(main())
