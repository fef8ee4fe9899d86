"""Accessibility (axe-core in Chromium, every page, signed out and in, desktop and 360 px), the
keyboard-only chat, the conversation library in the sidebar, and screenshots of every page in
both themes and in German under var/screenshots/.

axe-core comes from npm (web/vendor.py, tests only) and is evaluated into the page over the
DevTools protocol (the page's CSP allows no injected script).
"""

from __future__ import annotations

import re

from tests.browser.conftest import DESKTOP, PHONE, ROOT, SCREENSHOTS, sign_in

AXE = ROOT / "tests" / "browser" / "vendor" / "axe-core" / "axe.min.js"
PAGES = ["/chat", "/studio", "/gallery", "/videos", "/edit", "/describe", "/credits", "/keys"]
RESULTS: dict[str, dict[str, list[str]]] = {}


def audit(page, name: str) -> list[str]:
    """Serious and critical axe violations on the page as it is now (wcag2a/aa, best practices)."""
    page.wait_for_load_state("networkidle")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;true")
    found = page.evaluate("""async () => { const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, n: v.nodes.length,
          target: v.nodes.slice(0, 3).map((x) => x.target.join(' ')).join(' | ') })); }""")
    bad = [f"{v['id']} ({v['impact']}, {v['n']}): {v['target']}" for v in found
           if v["impact"] in ("serious", "critical")]
    RESULTS.setdefault(name, {})[f"{page.viewport_size['width']}px"] = bad + [
        f"[{v['impact']}] {v['id']}" for v in found if v["impact"] not in ("serious", "critical")]
    return bad


def both_widths(page, name: str) -> list[str]:
    page.set_viewport_size(DESKTOP)
    bad = audit(page, name)
    page.set_viewport_size(PHONE)
    bad += audit(page, name)
    page.set_viewport_size(DESKTOP)
    return bad


def test_axe_finds_no_serious_or_critical_violation_on_any_page(page, muse, browser):
    muse.gemini.reply = "An answer with `code` and a [link](https://example.com)."
    muse.gemini.chunk_delay_s = 0.01
    problems: dict[str, list[str]] = {}
    try:
        page.goto("/sign-in")
        page.get_by_label("User ID").wait_for()
        problems["/sign-in"] = both_widths(page, "/sign-in (signed out)")
        sign_in(page, "user_axe", "ADMIN")
        page.get_by_label("Message", exact=True).fill("Hello axe")
        page.get_by_role("button", name="Send", exact=True).click()
        page.wait_for_url(re.compile(r"/chat/cnv_\w+"))
        page.wait_for_function("() => [...document.querySelectorAll('.msg')].every((m) => m.dataset.id)")
        chat_path = page.url.split(muse.url)[1]
        for path in [chat_path, *PAGES, "/admin"]:
            if not path.startswith("/chat/"):
                page.goto(path)
            page.locator("main h1").first.wait_for()
            problems[path] = both_widths(page, path)
        page.goto(chat_path)
        page.locator(".msg.assistant").wait_for()
        for theme in ("dark", "light"):
            page.get_by_label("Theme").select_option(theme)
            problems[f"/chat ({theme})"] = both_widths(page, f"/chat ({theme} theme)")
    finally:
        muse.gemini.chunk_delay_s = 0.12
        lines = [f"| {name} | {w} | {'; '.join(v) or '0'} |" for name, widths in RESULTS.items()
                 for w, v in widths.items()]
        (SCREENSHOTS / "axe-results.md").write_text("| page | width | violations |\n|---|---|---|\n"
                                                    + "\n".join(lines) + "\n")
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_chat_by_keyboard_alone(page, muse):
    muse.gemini.reply = "Typed without a mouse."
    muse.gemini.chunk_delay_s = 0.01
    try:
        page.goto("/sign-in")
        page.get_by_label("User ID").wait_for()
        for _ in range(40):  # tab to the User ID field
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.name") == "user":
                break
        page.keyboard.type("user_keyboard")
        page.keyboard.press("Enter")
        page.wait_for_url("**/chat")
        page.get_by_label("Message", exact=True).wait_for()
        for _ in range(60):  # tab through the page to the message box
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.name") == "message":
                break
        else:
            raise AssertionError("the message box is not reachable with Tab")
        page.keyboard.type("Can I do this by keyboard?")
        for _ in range(10):  # on to the Send button, and press it
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent") == "Send":
                break
        page.keyboard.press("Enter")
        page.locator(".msg.assistant").get_by_text("Typed without a mouse.").wait_for()
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


def test_screenshots_of_every_page_in_both_themes_and_in_german(page, muse):
    sign_in(page, "user_shots", "ADMIN")
    muse.gemini.reply = "# Plan\n\n| Day | Where |\n|---|---|\n| 1 | Alfama |\n\n```python\nprint('hi')\n```"
    muse.gemini.chunk_delay_s = 0.01
    try:
        page.get_by_label("Message", exact=True).fill("Plan two days")
        page.get_by_role("button", name="Send", exact=True).click()
        page.wait_for_url(re.compile(r"/chat/cnv_\w+"))
        chat_url = page.url
        page.locator(".msg.assistant table").wait_for()
    finally:
        muse.gemini.chunk_delay_s = 0.12
    for theme, lang in (("light", "en"), ("dark", "en"), ("dark", "de"), ("light", "es")):
        page.evaluate("([theme, lang]) => { localStorage.setItem('muse.theme', theme); "
                      "localStorage.setItem('muse.lang', lang); }", [theme, lang])
        for path in [chat_url.split(muse.url)[1], *PAGES[1:], "/admin"]:
            page.goto(path)
            page.locator("main h1").first.wait_for()
            page.wait_for_load_state("networkidle")
            name = f"{theme}-{lang}{path.replace('/', '_')}"[:60]
            for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
                page.set_viewport_size(size)
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
            page.set_viewport_size(DESKTOP)
    page.evaluate("localStorage.clear()")
    page.goto("/sign-in")
    page.get_by_label("User ID").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "signed-out-sign-in.png"), full_page=True)
