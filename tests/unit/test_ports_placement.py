"""Every Protocol of the core lives in a ports module (issue 24).

A port is what a domain needs from outside it; a newcomer finds them all in `services/<domain>/ports.py`
or `services/<domain>/ports/`, never scattered through the service modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def protocols(source: str) -> list[str]:
    """The classes `source` defines with `Protocol` among their bases (`Protocol`, `typing.Protocol`,
    `Protocol[T]`, beside other bases), as `line: name`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                target = base.value if isinstance(base, ast.Subscript) else base
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
                if name == "Protocol":
                    found.append(f"{node.lineno}: {node.name}")
                    break
    return found


def is_ports_module(relative: Path) -> bool:
    return relative.stem == "ports" or "ports" in relative.parts[:-1]


def test_the_check_finds_each_way_of_writing_a_protocol():
    source = ("import typing\nfrom typing import Protocol, Generic\n"
              "class A(Protocol): ...\nclass B(typing.Protocol): ...\nclass C(Protocol[T]): ...\n"
              "class D(Generic[T], Protocol): ...\nclass E(A): ...\nclass F(Exception): ...\n")
    assert protocols(source) == ["3: A", "4: B", "5: C", "6: D"]


def test_ports_modules_are_told_apart():
    assert is_ports_module(Path("services/chat/ports.py"))
    assert is_ports_module(Path("services/media/ports/images.py"))
    assert not is_ports_module(Path("services/chat/models.py"))
    assert not is_ports_module(Path("services/credits/usage.py"))


def test_every_protocol_in_services_is_in_a_ports_module():
    offenders, seen = [], 0
    for path in sorted((ROOT / "services").rglob("*.py")):
        relative = path.relative_to(ROOT)
        found = protocols(path.read_text())
        seen += len(found)
        if not is_ports_module(relative):
            offenders += [f"{relative.as_posix()}:{hit}" for hit in found]
    assert offenders == []
    assert seen > 40  # the scan reads the ports (it would pass vacuously on an empty tree)
