"""Accessibility (axe-core in Chromium, every page, signed out and in, desktop and 360 px), the
keyboard-only chat, the conversation library in the sidebar, and screenshots of every page in
both themes and in German under var/screenshots/.

axe-core comes from npm (web/vendor.py, tests only) and is evaluated into the page over the
DevTools protocol (the page's CSP allows no injected script).
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import DESKTOP, PHONE, ROOT, SCREENSHOTS, sign_in
from tests.browser.site import SIGNED_OUT, Site, seed, settle

AXE = ROOT / "tests" / "browser" / "vendor" / "axe-core" / "axe.min.js"
THEMES = ("light", "dark")
WIDTHS = (("desktop", DESKTOP), ("360px", PHONE))
# page -> "theme width" -> serious/critical violations (and, in brackets, the lesser ones)
RESULTS: dict[str, dict[str, list[str]]] = {}


@pytest.fixture(scope="module")
def site(muse) -> Site:
    muse.gemini.reply = ("An answer with `code`, a [link](https://example.com) and\n\n"
                         "| a | b |\n|---|---|\n| 1 | 2 |")
    return seed(muse, "user_axe")


def audit(page) -> tuple[list[str], list[str]]:
    """Serious and critical axe violations on the page as it is now (wcag2a/aa, best practices),
    and the lesser ones."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;true")
    found = page.evaluate("""async () => { const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, n: v.nodes.length,
          target: v.nodes.slice(0, 3).map((x) => x.target.join(' ')).join(' | ') })); }""")
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    return ([f"{v['id']} ({v['impact']}, {v['n']}): {v['target']}" for v in serious],
            [f"{v['id']} ({v['impact']})" for v in found if v not in serious])


def audit_everywhere(page, path: str, name: str) -> list[str]:
    """The page in both themes at both widths; its row of the results table."""
    bad: list[str] = []
    for theme in THEMES:
        page.evaluate("(theme) => localStorage.setItem('muse.theme', theme)", theme)
        page.goto(path)
        settle(page)
        for width, size in WIDTHS:
            page.set_viewport_size(size)
            serious, lesser = audit(page)
            RESULTS.setdefault(name, {})[f"{theme} {width}"] = serious + [f"[{x}]" for x in lesser]
            bad += [f"{theme} {width}: {x}" for x in serious]
        page.set_viewport_size(DESKTOP)
    return bad


def write_results() -> None:
    columns = [f"{theme} {width}" for theme in THEMES for width, _ in WIDTHS]
    cell = lambda found: (f"{len([x for x in found if not x.startswith('[')])}"  # noqa: E731
                          + (f" ({'; '.join(x.strip('[]') for x in found if x.startswith('['))})"
                             if any(x.startswith("[") for x in found) else ""))
    lines = [f"| {name} | " + " | ".join(cell(row.get(c, [])) for c in columns) + " |"
             for name, row in RESULTS.items()]
    head = "| page | " + " | ".join(columns) + " |\n" + "|---" * (len(columns) + 1) + "|\n"
    (SCREENSHOTS / "axe-results.md").write_text(
        "Serious + critical violations (lesser ones in brackets)\n\n" + head + "\n".join(lines) + "\n")


def test_axe_finds_no_serious_or_critical_violation_on_any_page(page, muse, site):
    problems: dict[str, list[str]] = {}
    try:
        page.goto("/sign-in")
        for path in SIGNED_OUT:
            problems[f"{path} (signed out)"] = audit_everywhere(page, path, f"{path} (signed out)")
        sign_in(page, site.user, "ADMIN")
        for path in site.pages():
            problems[path] = audit_everywhere(page, path, path)
    finally:
        write_results()
    assert len(RESULTS) == len(SIGNED_OUT) + len(site.pages())
    assert {k: v for k, v in problems.items() if v} == {}


def _tab_to(page, predicate: str, limit: int) -> int:
    """Press Tab until `predicate` (a JS expression on document.activeElement `el`) holds; the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return Boolean({predicate}); }})()"):
            return presses
    raise AssertionError(f"no element with {predicate} reached in {limit} Tab presses")


def _drawn(page) -> None:
    """The page has drawn and put the focus on its heading (router's finish()): Tab starts from there."""
    page.wait_for_function("() => document.activeElement?.matches('main h1')")
    page.wait_for_load_state("networkidle")


def test_the_chat_by_keyboard_alone(page, muse):
    muse.gemini.reply = "Typed without a mouse."
    muse.gemini.chunk_delay_s = 0.01
    try:
        page.goto("/sign-in")
        _drawn(page)
        _tab_to(page, "el.name === 'user'", 40)
        page.keyboard.press("Control+A")
        page.keyboard.type("user_keyboard")
        page.keyboard.press("Enter")
        page.wait_for_url("**/chat")
        _drawn(page)
        page.locator(".sidebar li").first.wait_for()  # the conversation list has loaded (none yet)
        presses = _tab_to(page, "el.name === 'message'", 60)
        page.keyboard.type("Can I do this by keyboard?")
        _tab_to(page, "el.type === 'submit' && el.closest('form.composer')", 10)
        page.keyboard.press("Enter")
        page.locator(".msg.assistant").get_by_text("Typed without a mouse.").wait_for()
        page.wait_for_url(re.compile(r"/chat/cnv_\w+"))
        assert presses < 40, presses  # the message box is early in the tab order
    finally:
        muse.gemini.chunk_delay_s = 0.12


def test_search_pin_export_and_delete_all_in_the_sidebar(page, muse):
    muse.gemini.chunk_delay_s = 0.01
    try:
        sign_in(page, "user_library")
        for question, answer in (("Trip to Lisbon", "Go to Belém."), ("Sorting lists", "Use sorted().")):
            muse.gemini.reply = answer
            page.goto("/chat")
            page.get_by_label("Message", exact=True).fill(question)
            page.get_by_role("button", name="Send", exact=True).click()
            page.wait_for_function("() => [...document.querySelectorAll('.msg')].length === 2 "
                                   "&& [...document.querySelectorAll('.msg')].every((m) => m.dataset.id)")
        sidebar = page.get_by_role("navigation", name="Conversations")
        sidebar.get_by_role("button", name="Pin “Trip to Lisbon”").click()
        sidebar.get_by_role("button", name="Unpin “Trip to Lisbon”").wait_for()
        assert sidebar.locator("li a").first.inner_text() == "Trip to Lisbon"  # pinned first
        sidebar.get_by_label("Search conversations").fill("sorted")
        page.wait_for_function("() => document.querySelectorAll('.sidebar li a').length === 1")
        assert sidebar.locator(".snippet").inner_text() == "Use sorted()."
        with page.expect_download() as download:
            sidebar.get_by_role("button", name="Export “Sorting lists” as Markdown").click()
        assert download.value.suggested_filename == "sorting-lists.md"
        assert "Use sorted()." in open(download.value.path()).read()
        sidebar.get_by_label("Search conversations").fill("")
        page.wait_for_function("() => document.querySelectorAll('.sidebar li a').length === 2")
        sidebar.get_by_role("button", name="Delete all conversations").click()
        sidebar.get_by_text("No conversations yet.").wait_for()
    finally:
        muse.gemini.chunk_delay_s = 0.12


def test_screenshots_of_every_page_in_both_themes_and_in_german(page, muse, site):
    """var/screenshots/<theme>-<lang>/<page>-<width>.png: every page, light and dark, English and German."""
    page.goto("/sign-in")
    for theme, lang in (("light", "en"), ("dark", "en"), ("light", "de"), ("dark", "de")):
        folder = SCREENSHOTS / f"{theme}-{lang}"
        folder.mkdir(exist_ok=True)
        page.evaluate("([theme, lang]) => { localStorage.setItem('muse.theme', theme); "
                      "localStorage.setItem('muse.lang', lang); localStorage.removeItem('muse.token'); }",
                      [theme, lang])
        paths = [*SIGNED_OUT, *site.pages()]
        for path in paths:
            if path == site.pages()[0]:
                sign_in_as_is(page, site.user)
            page.goto(path)
            settle(page)
            name = path.strip("/").replace("/", "_").replace("?", "_") or "root"
            for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
                page.set_viewport_size(size)
                page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
            page.set_viewport_size(DESKTOP)
        assert len(list(folder.glob("*.png"))) == 2 * len(paths)


def sign_in_as_is(page, user: str) -> None:
    """The development sign-in in whatever language the page is in (by field names, not labels)."""
    page.goto("/sign-in")
    page.locator("input[name=user]").fill(user)
    page.locator("select[name=role]").select_option("ADMIN")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/chat")
