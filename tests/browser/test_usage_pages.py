"""Usage you can see and spend you can cap (contract §19), in a real browser."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx

from tests.browser.conftest import shoot, sign_in


def test_a_key_with_limits_shows_its_spend_and_its_limits_change(page, muse, watch):
    sign_in(page, "user_key_limits")
    page.get_by_role("link", name="API keys", exact=True).click()
    page.get_by_label("Key name").fill("capped script")
    page.get_by_text("Limits (optional)").click()
    page.get_by_label("Daily credit cap").fill("3")
    page.get_by_label("videos").uncheck()
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("New API key").input_value()
    bearer = {"Authorization": f"Bearer {secret}"}
    for _ in range(2):
        answer = httpx.post(f"{muse.url}/api/v1/chat", headers=bearer, timeout=20,
                            json={"messages": [{"role": "user", "content": f"hi {_}"}]})
        assert answer.status_code == 200, answer.text
    refused = httpx.post(f"{muse.url}/api/v1/videos", headers=bearer, json={"prompt": "a fox"})
    assert refused.status_code == 403 and refused.json()["code"] == "api_key_scope"

    page.reload()
    row = page.locator("tr", has=page.get_by_role("cell", name="capped script", exact=True))
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[4:6] == ["2", "2"], cells  # spent today, this month
    assert cells[3] != "never"  # last used
    assert "3/day" in cells[6] and "videos" not in cells[6].split("scopes:")[1].split("·")[0]
    shoot(page, "api-keys-limits")

    page.get_by_role("button", name="Edit limits of capped script").click()
    editor = page.get_by_role("form", name="Limits of capped script")
    assert editor.get_by_label("Daily credit cap").input_value() == "3"
    editor.get_by_label("Monthly credit cap").fill("40")
    editor.get_by_role("button", name="Save limits").click()
    page.get_by_text("Limits saved.").wait_for()
    page.get_by_role("cell", name="3/day · 40/month", exact=False).wait_for()
    listed = httpx.get(f"{muse.url}/api/v1/api-keys", headers=bearer).json()["items"][0]
    assert listed["monthly_credit_cap"] == 40 and listed["daily_credit_cap"] == 3
    refused = httpx.post(f"{muse.url}/api/v1/chat", headers=bearer,
                         json={"messages": [{"role": "user", "content": "one more"}]})
    assert refused.status_code == 200
    capped = httpx.post(f"{muse.url}/api/v1/chat", headers=bearer,
                        json={"messages": [{"role": "user", "content": "and another"}]})
    assert capped.status_code == 429 and capped.json()["code"] == "api_key_cap_reached"


def test_the_usage_page_draws_its_charts_and_downloads_the_csv(page, muse, watch):
    token = muse.token("user_usage_page")
    for n in range(3):
        answer = muse.call("POST", "/api/v1/chat", token,
                           json={"messages": [{"role": "user", "content": f"q{n}"}]})
        assert answer.status_code == 200, answer.text
    sign_in(page, "user_usage_page")
    page.get_by_role("link", name="Usage", exact=True).click()
    page.get_by_text("3 credits spent").wait_for()
    for canvas in ("#usage-days", "#usage-kinds"):
        drawn = page.evaluate("""(sel) => { const c = document.querySelector(sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return [c.width, n]; }""", canvas)
        assert drawn[0] > 0 and drawn[1] > 500, (canvas, drawn)  # painted pixels
    page.get_by_role("cell", name="3", exact=True).first.wait_for()
    shoot(page, "usage")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    text = Path(info.value.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and rows[-1]["credits"] == "3" and rows[-1]["requests"] == "3"
    assert list(rows[0]) == ["key", "requests", "credits", "refunded_credits", "tokens_in", "tokens_out",
                             "images", "video_seconds"]
