"""The web app in every language (issue 30 item 4): no text on any page that is not from the
message catalogue, a language switch that changes every page (and how dates and numbers are
written), and the browser's language picked when the person has chosen none.

Untranslated text is found by rendering each page in `qps`, a pseudo-language of i18n.js in which
every message is the English one in ⟦ ⟧: any letter on screen (text, or an aria-label, placeholder,
title or alt) outside those brackets was written by page code, not looked up. What a person or a
model wrote (conversation titles, prompts, answers, e-mail addresses, names of models and
providers) is marked translate="no" and is left out, as browsers' translators leave it.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in
from tests.browser.site import SIGNED_OUT, Site, seed, settle

UNTRANSLATED = """() => {
  const outside = (text) => {  // the text left after removing every (nested) ⟦…⟧
    let rest = text, before;
    do { before = rest; rest = rest.replace(/⟦[^⟦⟧]*⟧/g, ""); } while (rest !== before);
    return /\\p{L}/u.test(rest) ? rest.trim() : "";
  };
  const skipped = (el) => el.closest('[translate="no"], script, style, noscript');
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    if (!node.parentElement || skipped(node.parentElement)) continue;
    const rest = outside(node.textContent);
    if (rest) found.push(`${node.parentElement.tagName.toLowerCase()}: ${rest.slice(0, 80)}`);
  }
  for (const el of document.body.querySelectorAll("[aria-label], [placeholder], [title], img[alt]")) {
    if (skipped(el)) continue;
    for (const name of ["aria-label", "placeholder", "title", "alt"]) {
      const rest = outside(el.getAttribute(name) || "");
      if (rest) found.push(`${el.tagName.toLowerCase()}[${name}]: ${rest.slice(0, 80)}`);
    }
  }
  const heading = document.querySelector("main h1");  // document.title is the heading's text
  const title = heading?.closest('[translate="no"]') ? "" : outside(document.title.replace(/ · Muse$/, ""));
  if (title) found.push(`title: ${title}`);
  return found;
}"""


@pytest.fixture(scope="module")
def site(muse) -> Site:
    muse.gemini.reply = "Day 1: **Alfama**. Day 2: Belém."
    return seed(muse, "user_languages")


def _language(page, lang: str) -> None:
    page.evaluate("(lang) => localStorage.setItem('muse.lang', lang)", lang)


def test_every_page_shows_only_catalogue_text_in_the_pseudo_language(page, muse, site):
    page.goto("/sign-in")
    _language(page, "qps")
    found: dict[str, list[str]] = {}
    for path in SIGNED_OUT:
        page.goto(path)
        settle(page)
        found[f"{path} (signed out)"] = page.evaluate(UNTRANSLATED)
    sign_in(page, site.user, "ADMIN")
    for path in site.pages():
        page.goto(path)
        settle(page)
        found[path] = page.evaluate(UNTRANSLATED)
    assert page.evaluate("document.querySelectorAll('main h1').length") == 1
    assert len(found) == len(SIGNED_OUT) + len(site.pages())
    assert {path: texts for path, texts in found.items() if texts} == {}, "text not from the catalogue"


def _ui_texts(page) -> list[str]:
    """The app's own texts on the page (not what people or models wrote)."""
    return page.evaluate("""() => [...document.querySelectorAll(
        'main :is(h1, h2, h3, label, button, th, legend, summary, .hint, a)')]
      .filter((el) => !el.closest('[translate="no"]'))
      .map((el) => el.textContent.trim()).filter(Boolean)""")


def test_switching_the_language_changes_every_page_and_is_remembered(page, muse, site):
    sign_in(page, site.user, "ADMIN")
    catalogues = page.evaluate("""async () => { const m = await import('/assets/js/i18n.js');
        return { en: m.CATALOGUES.en, de: m.CATALOGUES.de }; }""")
    english = {value for key, value in catalogues["en"].items()
               if isinstance(value, str) and catalogues["de"][key] != value and "{" not in value}
    before: dict[str, list[str]] = {}
    for path in site.pages():
        page.goto(path)
        settle(page)
        before[path] = _ui_texts(page)
    # Chosen in the header (on the first page), remembered for every page after, and a reload
    page.goto(site.pages()[0])
    settle(page)
    page.get_by_label("Language").select_option("de")
    page.get_by_role("navigation", name="Hauptmenü").get_by_role("link", name="Galerie").wait_for()
    assert page.evaluate("document.documentElement.lang") == "de"
    changed: dict[str, tuple[int, list[str]]] = {}
    for path in site.pages():
        page.goto(path)
        settle(page)
        after = _ui_texts(page)
        left = sorted({text for text in after if text in english})  # an English message still shown
        changed[path] = (len(set(after) - set(before[path])), left)
    assert {path: left for path, (_, left) in changed.items() if left} == {}, "English left after switching"
    assert {path: n for path, (n, _) in changed.items() if n == 0} == {}, "pages that did not change"
    assert page.evaluate("localStorage.getItem('muse.lang')") == "de"


def test_dates_and_numbers_follow_the_chosen_language_not_the_browsers(page, muse, site):
    assert page.evaluate("navigator.language").startswith("en")  # the browser says English
    sign_in(page, site.user, "ADMIN")
    _language(page, "de")
    page.goto("/usage")
    settle(page)
    today = page.evaluate("""() => Object.fromEntries(['de', 'en'].map((lang) => [lang,
        new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date())]))""")
    table = page.locator("main table").inner_text()
    assert today["de"] in table and today["en"] not in table, (today, table[:300])
    page.goto("/credits")
    settle(page)
    balance = page.get_by_test_id("balance").inner_text()
    assert balance == page.evaluate("new Intl.NumberFormat('de').format(12345)") == "12.345", balance
    page.get_by_label("Sprache").select_option("es")
    page.get_by_role("heading", name="Créditos", exact=True).wait_for()
    assert page.get_by_test_id("balance").inner_text() == "12.345"  # es: also a dot


def test_the_browsers_language_is_picked_when_none_was_chosen(browser, muse, site):
    context = browser.new_context(locale="es-ES", base_url=muse.url)
    try:
        tab = context.new_page()
        tab.goto("/sign-in")
        tab.get_by_role("heading", name="Inicio de sesión de desarrollo").wait_for()
        assert tab.evaluate("document.documentElement.lang") == "es"
        assert tab.get_by_role("button", name="Iniciar sesión").is_visible()
    finally:
        context.close()
