"""Muse's own account pages (AUTH_PROVIDER=local: sign-in, sign-up, password reset, email
confirmation) show only catalogue text too: each rendered in the pseudo-language, including the
error a bad link gives."""

from __future__ import annotations

import pytest

from tests.browser.conftest import run_muse
from tests.browser.site import settle
from tests.browser.test_languages import UNTRANSLATED


@pytest.fixture(scope="module")
def _muse_process(servers, tmp_path_factory):
    with run_muse(servers, tmp_path_factory, AUTH_PROVIDER="local") as started:
        yield started


PAGES = ["/sign-in", "/sign-up", "/forgot-password", "/reset-password?token=abc", "/verify-email?token=abc"]


def test_the_account_pages_show_only_catalogue_text_in_the_pseudo_language(page, muse, watch):
    watch.allowed |= {("/api/v1/auth/verify-email", 400), ("/api/v1/auth/verify-email", 410),
                      ("/api/v1/auth/verify-email", 422), ("/api/v1/auth/verify-email", 404),
                      ("/api/v1/auth/login", 401)}
    page.goto("/sign-in")
    page.evaluate("localStorage.setItem('muse.lang', 'qps')")
    found: dict[str, list[str]] = {}
    for path in PAGES:
        page.goto(path)
        settle(page)
        found[path] = page.evaluate(UNTRANSLATED)
    page.goto("/sign-in")
    settle(page)
    page.locator("input[name=email]").fill("nobody@example.test")
    page.locator("input[name=password]").fill("not the password")
    page.locator("form button[type=submit]").click()
    page.get_by_role("alert").wait_for()
    found["/sign-in (wrong password)"] = page.evaluate(UNTRANSLATED)
    assert page.locator("#main [role=alert]").inner_text().startswith("⟦")
    assert {path: texts for path, texts in found.items() if texts} == {}, "text not from the catalogue"
