"""The web app with Muse's own accounts (AUTH_PROVIDER=local, contract §17): sign up, chat,
sign out (the session ends on the server), renewal, sign in, and one message for any bad login."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import run_muse, shoot

EMAIL, PASSWORD = "ada@example.test", "correct horse battery"


@pytest.fixture(scope="module")
def _muse_process(servers, tmp_path_factory):
    """This module's Muse signs people in with its own accounts."""
    with run_muse(servers, tmp_path_factory, AUTH_PROVIDER="local") as started:
        yield started


def _fill_sign_up(page, *, password: str) -> None:
    page.get_by_label("Name (optional)").fill("Ada")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()


def test_sign_up_chat_sign_out_renew_and_sign_in_with_muse_accounts(page, muse, watch):
    watch.allowed |= {("/api/v1/auth/register", 422), ("/api/v1/auth/login", 401)}
    muse.gemini.reply = "Hello Ada, this answer streams in a few pieces."
    page.goto("/")
    page.wait_for_url("**/sign-in")
    page.get_by_role("link", name="Create an account").click()
    page.wait_for_url("**/sign-up")
    page.get_by_role("heading", name="Create your account").wait_for()

    # A common password: the rule is shown as a sentence, and nothing is signed in.
    _fill_sign_up(page, password="password123")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "too common" in alert.inner_text() and "loc" not in alert.inner_text()
    shoot(page, "sign-up")
    assert page.evaluate("localStorage.getItem('muse.token')") is None

    _fill_sign_up(page, password=PASSWORD)
    page.wait_for_url("**/chat")
    page.get_by_text(f"{EMAIL} · USER").wait_for()
    old_token = page.evaluate("localStorage.getItem('muse.token')")
    assert muse.call("GET", "/api/v1/me", old_token).json()["email"] == EMAIL

    page.get_by_label("Message", exact=True).fill("Say hello")
    page.get_by_role("button", name="Send").click()
    page.locator(".msg.assistant").get_by_text("a few pieces").wait_for()

    # Renewal: a token about to expire is refreshed before the next call, which then uses the new one.
    page.evaluate("localStorage.setItem('muse.token_expires', String(Date.now() + 1000))")
    # (A load state cannot be awaited here: the app navigates with pushState, so "networkidle" was
    # reached long ago and returned at once, before the app had stored the refreshed token.)
    with page.expect_request(lambda r: "/api/v1/images?" in r.url) as gallery_read, \
            page.expect_response(lambda r: r.url.endswith("/api/v1/auth/refresh")) as refreshed:
        page.get_by_role("link", name="Gallery", exact=True).click()
    assert refreshed.value.status == 200
    page.wait_for_url("**/gallery")
    token = refreshed.value.json()["access_token"]
    assert token != old_token
    assert gallery_read.value.headers["authorization"] == f"Bearer {token}"
    assert page.evaluate("localStorage.getItem('muse.token')") == token
    assert page.evaluate("Number(localStorage.getItem('muse.token_expires')) > Date.now() + 60000")

    # Sign out: the session ends on the server, so the token is refused at once.
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/logout")) as logged_out:
        page.get_by_role("button", name="Sign out").click()
    assert logged_out.value.status == 204
    page.wait_for_url("**/sign-in")
    assert muse.call("GET", "/api/v1/me", token).status_code == 401

    # A wrong password and an unknown email read the same.
    messages = []
    for email, password in [(EMAIL, "not the password"), ("nobody@example.test", PASSWORD)]:
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        alert = page.get_by_role("alert")
        alert.wait_for()
        messages.append(alert.locator("p").first.inner_text())
    assert messages[0] == messages[1] and "incorrect" in messages[0]

    page.get_by_label("Email").fill(EMAIL.upper())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/chat")
    page.get_by_text(f"{EMAIL} · USER").wait_for()
    token = page.evaluate("localStorage.getItem('muse.token')")
    assert muse.call("GET", "/api/v1/me", token).status_code == 200


def _mailed_link(page, email: str, path: str) -> str:
    """The link to `path` in the newest mail to `email` in the dev outbox (mail is sent in the background)."""
    for _ in range(50):
        for mail in page.request.get("/api/v1/dev/outbox").json()["items"]:
            words = [w for w in mail["text"].split() if f"{path}?token=" in w]
            if mail["to"] == email and words:
                return words[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"no {path} mail to {email} in the dev outbox")


def test_mailed_links_confirm_the_address_and_reset_the_password(page, muse):
    email = "grace@example.test"
    account = {"email": email, "password": PASSWORD}
    httpx.post(f"{muse.url}/api/v1/auth/register", json=account).raise_for_status()
    page.goto(_mailed_link(page, email, "/verify-email"))
    page.get_by_text(f"{email} is confirmed").wait_for()

    page.goto("/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url("**/forgot-password")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send the link").click()
    page.get_by_text("a link is on its way").wait_for()
    page.goto(_mailed_link(page, email, "/reset-password"))
    page.get_by_label("New password").fill("a brand new passphrase")
    page.get_by_role("button", name="Save and sign in").click()
    page.wait_for_url("**/chat")
    page.get_by_text(f"{email} · USER").wait_for()
    assert httpx.post(f"{muse.url}/api/v1/auth/login", json=account).status_code == 401  # the old password
