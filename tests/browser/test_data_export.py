"""Exporting one's data in the web app (contract §20, issue 27): the Account page's button starts
the export job, shows its progress, then offers the zip, which is downloaded and opened here."""

from __future__ import annotations

import json
import zipfile

from tests.browser.conftest import shoot, sign_in

FILES = ["profile.json", "conversations.json", "images.json", "ledger.json", "payments.json", "api_keys.json"]


def test_export_my_data_shows_progress_and_downloads_the_zip(page, muse, tmp_path):
    sign_in(page, "user_exporting")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account", exact=True).click()
    page.get_by_role("button", name="Export my data").click()
    page.get_by_role("status").get_by_text("Your export is ready").wait_for(timeout=30_000)
    shoot(page, "account-export-ready")
    with page.expect_download() as started:
        page.get_by_role("button", name="Download my data").click()
    download = started.value
    assert download.suggested_filename.startswith("muse-export-exp_")
    path = tmp_path / "export.zip"
    download.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == FILES
        profile = json.loads(archive.read("profile.json"))
        assert profile["id"].startswith("usr_") and "clerk_id" not in profile
        assert isinstance(json.loads(archive.read("conversations.json")), list)
