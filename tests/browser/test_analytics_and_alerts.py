"""The admin analytics page draws its charts, and the budget banner shows once an alert is crossed
(contract §19), in a real browser."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.browser.conftest import run_muse, shoot, sign_in


def _ask(muse, token: str, text: str) -> None:
    answer = muse.call("POST", "/api/v1/chat", token, json={"messages": [{"role": "user", "content": text}]})
    assert answer.status_code == 200, answer.text


PAINTED = """(sel) => { const c = document.querySelector(sel);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return [c.width, n]; }"""


@pytest.fixture(scope="module")
def _muse_process(servers, tmp_path_factory) -> Iterator:
    # the Gemini fake's model priced, so provider cost shows: it counts a token a word, so a
    # one-word question and its "Hello from Gemini." answer cost $0.01 + 3 x $0.03 = $0.10
    prices = {"gemini-2.5-flash": {"input_per_1m": 10_000, "output_per_1m": 30_000}}
    with run_muse(servers, tmp_path_factory, PROVIDER_PRICES=json.dumps(prices)) as started:
        yield started


def test_the_admin_analytics_page_charts_revenue_cost_and_margin(page, muse, watch):
    token = muse.token("analytics_spender")
    for n in range(4):
        _ask(muse, token, f"q{n}")
    sign_in(page, "analytics_admin", role="ADMIN")
    page.goto("/admin")
    page.get_by_role("link", name="Analytics", exact=True).click()
    page.wait_for_url("**/admin/analytics")
    page.get_by_text("4 credits spent").wait_for()
    summary = page.get_by_text("4 credits spent").inner_text()
    assert "provider cost $0.40" in summary and "margin -$0.40" in summary, summary
    for canvas in ("#analytics-money", "#analytics-usage", "#analytics-models"):
        drawn = page.evaluate(PAINTED, canvas)
        assert drawn[0] > 0 and drawn[1] > 500, (canvas, drawn)  # painted pixels
    models = page.get_by_role("region", name="By model")
    assert models.get_by_role("cell", name="default", exact=True).is_visible()
    top = page.get_by_role("region", name="Top users by provider cost")
    assert top.locator("tbody tr").count() >= 1
    shoot(page, "admin-analytics")


def test_the_budget_banner_shows_once_the_monthly_alert_is_crossed(page, muse, watch):
    sign_in(page, "banner_user")
    banner = page.locator("#budget-banner")
    assert banner.is_hidden()
    page.get_by_role("link", name="Usage", exact=True).click()
    page.get_by_label("Email me when my credits this month reach").fill("2")
    page.get_by_role("button", name="Save alert").click()
    page.get_by_text("Alert saved.").wait_for()
    assert banner.is_hidden()
    token = muse.token("banner_user")
    for n in range(3):
        _ask(muse, token, f"b{n}")
    page.get_by_role("link", name="Credits", exact=True).click()
    banner.wait_for(state="visible")
    assert "3 credits this month" in banner.inner_text() and "alert at 2" in banner.inner_text()
    shoot(page, "budget-banner")
