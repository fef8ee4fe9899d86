"""The web app under the contract's rate limits (free plan: burst 10, refill 1/s). A page load
used to spend 2 to 6 of them (and the anonymous bucket 2 more), so a person reloading a page a few
times in a row got 429s; the app now keeps deployment-wide reads (client-config, plans) and /me
for a while in the tab, and loads the credits page's history and payments when opened."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import run_muse, shoot

PAGES = ("/chat", "/credits", "/gallery", "/studio", "/keys")


@pytest.fixture(scope="module")
def _muse_process(servers, tmp_path_factory):
    """This module's Muse enforces the rate limits (the other browser modules switch them off)."""
    with run_muse(servers, tmp_path_factory, RATE_LIMITS_ENABLED="true") as started:
        yield started


@pytest.mark.parametrize("path", PAGES)
def test_reloading_a_page_three_times_in_a_row_stays_within_a_free_users_limit(page, muse, watch, path):
    user_calls: list[str] = []
    at: list[float] = []  # when each was sent
    page.on("request", lambda r: (user_calls.append(r.url), at.append(time.monotonic()))
            if "/api/v1/" in r.url and "authorization" in r.headers else None)
    token = muse.token(f"user_reload_{path.strip('/')}")  # a user of its own: a full bucket
    page.goto("/sign-in")
    page.evaluate("(token) => localStorage.setItem('muse.token', token)", token)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    for _ in range(3):
        page.reload()
        page.wait_for_load_state("networkidle")
        page.locator("main h1").first.wait_for()
    # Each reload spends at most two of the user's requests (the conftest fails the test on any 429),
    # and a page showing the credits refreshes them when the tab's /me is older than 5 s
    # (web/assets/js/state.js FRESH_MS): on a busy machine a reload can take that long.
    me_at = [t for url, t in zip(user_calls, at, strict=True) if url.endswith("/api/v1/me")]
    refreshes = [t for url, t in zip(user_calls, at, strict=True) if url.endswith("/api/v1/credits")]
    assert all(t - max(m for m in me_at if m <= t) >= 5 for t in refreshes), (user_calls, at)
    assert len(user_calls) - len(refreshes) <= 3 + 3 * 2, user_calls


def test_the_credits_page_loads_history_and_payments_when_opened(page, muse, watch):
    token = muse.token("user_history")
    page.goto("/sign-in")
    page.evaluate("(token) => localStorage.setItem('muse.token', token)", token)
    page.goto("/credits")
    page.get_by_test_id("balance").wait_for()
    page.locator("summary", has_text="History").click()
    page.get_by_text("No credit changes yet.").wait_for()
    page.locator("summary", has_text="Payments").click()
    page.get_by_text("No payments yet.").wait_for()
    shoot(page, "credits-history")
