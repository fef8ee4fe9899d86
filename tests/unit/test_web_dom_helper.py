"""The web app puts children in the DOM through ui.js's helpers only (issue 27 item 6).

The DOM's own `append` / `prepend` / `replaceChildren` / `before` / `after` / `replaceWith` write a
`null` or `undefined` child as the text "null" / "undefined" (the Credits page showed "null"
twice). ui.js's `append(el, ...)`, `prepend(el, ...)`, `replace(el, ...)` and `h(...)` leave such
children out; a bare call elsewhere in web/assets is refused here, unless its first argument is a
string literal (never null: `FormData.append("name", value)`, or a fixed text).
"""

from __future__ import annotations

import re
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "web" / "assets"
DOM_INSERTS = re.compile(r"\.(append|prepend|replaceChildren|before|after|replaceWith)\(")
SINK = "(...nodes("  # ui.js's helpers: the one place a bare call is made, with filtered nodes


def bare_dom_inserts(text: str, name: str) -> list[str]:
    """`file:line: code` of each bare DOM insert in `text` whose arguments may hold a null."""
    found = []
    for match in DOM_INSERTS.finditer(text):
        rest = text[match.end():]
        if rest.startswith(('"', "'", "`", ")")):  # a literal, or no argument at all
            continue
        if name == "ui.js" and text[match.end() - 1:].startswith(SINK):
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append(f"{name}:{line}: {text.splitlines()[line - 1].strip()}")
    return found


def test_no_bare_dom_append_of_a_possibly_null_value_in_web_assets():
    scripts = [p for p in ASSETS.rglob("*.js") if "vendor" not in p.relative_to(ASSETS).parts]
    assert len(scripts) >= 10  # the app's modules were found
    found = [hit for script in scripts
             for hit in bare_dom_inserts(script.read_text(), str(script.relative_to(ASSETS / "js")))]
    assert found == [], ("use ui.js's append(el, ...) / prepend(el, ...) / replace(el, ...) instead of the "
                         "DOM's own (it writes a null child as the text 'null'):\n" + "\n".join(found))


def test_the_rule_catches_what_showed_null_on_the_credits_page():
    # the shape of the defect: optional parts (null for a single payment processor) given to the DOM
    assert bare_dom_inserts('main.append(h("h1", {}, "Credits"), choice, billing);', "credits.js")
    assert bare_dom_inserts("box.prepend(maybe);\nel.replaceWith(other);", "x.js") == [
        "x.js:1: box.prepend(maybe);", "x.js:2: el.replaceWith(other);"]
    assert bare_dom_inserts('el.append(...nodes(children));', "x.js")  # the sink is ui.js's alone
    assert not bare_dom_inserts('form.append("image", file); append(main, choice);', "edit.js")
