"""No service locator in production code (issue 24): parts are handed over, never looked up.

Middlewares get what they need at install time (app/factory.py), worker jobs a typed `JobContext`
(app/wiring/jobs.py). Only the composition root (app/wiring/, app/factory.py) may put the container
anywhere or read arq's ctx; tests may read the container through their fixture.
"""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path

from app.jobs import JOB_REGISTRY
from app.wiring.jobs import JobContext

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("app", "controllers", "middlewares", "services", "repositories", "providers")
COMPOSITION_ROOT = ("app/wiring/", "app/factory.py")


def look_ups(source: str) -> list[str]:
    """`x["container"]`, `x.get("container")` and any `ctx[...]` in `source`, as `line: text`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        key = None
        if isinstance(node, ast.Subscript):
            if isinstance(node.value, ast.Name) and node.value.id == "ctx":
                key = "ctx[...]"
            elif isinstance(node.slice, ast.Constant) and node.slice.value == "container":
                key = '["container"]'
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "container"):
            key = '.get("container")'
        if key is not None:
            found.append((node.lineno, key))
    return [f"{line}: {key}" for line, key in sorted(found)]


def test_the_check_finds_each_kind_of_look_up():
    source = ('a = app.extensions["container"].chat\nb = ctx["anything"]\nc = ctx.get("container")\n'
              'd = {"container": 1}["other"]\ne = ctx.get("job_id")\n')
    assert look_ups(source) == ['1: ["container"]', "2: ctx[...]", '3: .get("container")']


def test_no_production_module_outside_the_composition_root_looks_up_the_container():
    offenders = []
    for folder in PRODUCTION:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(COMPOSITION_ROOT):
                continue
            offenders += [f"{relative}:{hit}" for hit in look_ups(path.read_text())]
    assert offenders == []


def test_every_registered_job_takes_the_typed_job_context():
    for spec in JOB_REGISTRY:
        fn = inspect.unwrap(spec.fn)
        first = next(iter(inspect.signature(fn).parameters))
        assert typing.get_type_hints(fn)[first] is JobContext, spec.name
