"""The web app's Content Security Policy has no 'unsafe-eval' (script-src 'self'). Playwright runs a
`wait_for_function` whose predicate is a bare expression through `eval` in the page once it has to
poll, which that policy refuses (EvalError): such a wait passes only when its condition already holds
at the first check, so it failed the CI rehearsal on a loaded machine. Every browser test's predicate
is a function, or the wait a locator assertion (`expect(...)`)."""

from __future__ import annotations

import ast
from pathlib import Path

BROWSER_TESTS = Path(__file__).resolve().parents[1] / "browser"


def _literal_start(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def test_every_wait_for_function_predicate_is_a_function():
    bare = []
    for path in sorted(BROWSER_TESTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "wait_for_function" and node.args:
                start = _literal_start(node.args[0])
                if start is None or not start.lstrip().startswith(("(", "function", "async")):
                    bare.append(f"{path.name}:{node.lineno}")
    assert bare == [], f"bare-expression predicates (refused by the CSP once polled): {bare}"
    assert any(BROWSER_TESTS.glob("test_*.py"))  # the walk looked at the browser tests
