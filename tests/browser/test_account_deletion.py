"""Deleting the account in the web app (contract §20, issue 27 item 4): a confirmation step, then
the account is gone (its token refused) and the app is back at sign-in."""

from __future__ import annotations

import httpx

from tests.browser.conftest import shoot, sign_in


def test_delete_my_account_asks_for_confirmation_then_signs_out_for_good(page, muse):
    sign_in(page, "user_leaving")
    token = page.evaluate("localStorage.getItem('muse.token')") or ""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account", exact=True).click()
    page.get_by_role("button", name="Delete my account…").click()
    page.get_by_label("Type DELETE to confirm").fill("delete")  # not quite: refused in the page
    page.get_by_role("button", name="Delete my account for good").click()
    page.get_by_role("alert").get_by_text("Type DELETE, in capitals, to confirm.").wait_for()
    shoot(page, "account-delete-confirm")
    page.get_by_role("button", name="Keep my account").click()
    me = f"{muse.url}/api/v1/me"
    assert httpx.get(me, headers={"Authorization": f"Bearer {token}"}).status_code == 200

    page.get_by_role("button", name="Delete my account…").click()
    page.get_by_label("Type DELETE to confirm").fill("DELETE")
    page.get_by_role("button", name="Delete my account for good").click()
    page.wait_for_url("**/sign-in")
    assert httpx.get(me, headers={"Authorization": f"Bearer {token}"}).status_code in (401, 403)
