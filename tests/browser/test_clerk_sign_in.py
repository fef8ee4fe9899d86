"""The web app with Clerk sign-in (CLERK_PUBLISHABLE_KEY, contract §11): Clerk's own library and
<SignIn/> component, served by Muse from web/assets/vendor/ (`make vendor`), talking to a wire fake
of Clerk's Frontend API over TLS on 127.0.0.1; Muse verifies the session tokens it mints."""

from __future__ import annotations

import httpx
import jwt
import pytest

from tests.browser.conftest import run_muse, shoot
from tests.fakes.clerk_frontend import TOKEN_TTL_S, FakeClerkFrontend, rsa_key_pair

EMAIL, PASSWORD, CLERK_USER = "grace@example.test", "navy compiler 1952", "user_clerk_grace"


@pytest.fixture(scope="module")
def clerk_fapi():
    private_pem, public_pem = rsa_key_pair()
    fake = FakeClerkFrontend(private_pem, {EMAIL: (PASSWORD, CLERK_USER)}).start()
    fake.public_pem = public_pem
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def _muse_process(servers, tmp_path_factory, clerk_fapi):
    """This module's Muse signs people in with Clerk (the fake's key pair and publishable key)."""
    with run_muse(servers, tmp_path_factory, CLERK_PUBLISHABLE_KEY=clerk_fapi.publishable_key,
                  CLERK_JWT_KEY=clerk_fapi.public_pem) as started:
        yield started


@pytest.fixture(scope="module")
def context_options() -> dict:
    return {"ignore_https_errors": True}  # the fake Frontend API's throwaway certificate


def test_the_app_page_allows_clerks_frontend_api_only_and_serves_clerks_library_itself(muse, clerk_fapi):
    answer = httpx.get(f"{muse.url}/sign-in")
    csp = answer.headers["Content-Security-Policy"]
    assert f"connect-src 'self' https://{clerk_fapi.host};" in csp
    assert "script-src 'self';" in csp and "default-src 'self';" in csp
    assert httpx.get(f"{muse.url}/api/v1/client-config").json()["auth"] == {
        "provider": "clerk", "clerk_publishable_key": clerk_fapi.publishable_key}
    for path in ("/assets/vendor/clerk/clerk.browser.js", "/assets/vendor/clerk-ui/ui.browser.js"):
        script = httpx.get(f"{muse.url}{path}")
        assert script.status_code == 200 and "javascript" in script.headers["Content-Type"], path


def test_clerk_sign_in_component_signs_in_calls_the_api_with_its_token_and_signs_out(page, muse, clerk_fapi,
                                                                                      watch):
    watch.allowed.add(("*", 422))  # the wrong password, answered by Clerk's Frontend API
    bearers: list[str] = []
    page.on("request", lambda request: bearers.append(request.headers.get("authorization", ""))
            if "/api/v1/" in request.url else None)
    page.goto("/keys")
    page.wait_for_url("**/sign-in?next=%2Fkeys")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.locator("input[name=password]").fill(PASSWORD + "x")  # a wrong password: Clerk says so
    page.get_by_role("button", name="Continue", exact=True).click()
    page.locator("#error-password").get_by_text("Password is incorrect").wait_for()
    shoot(page, "clerk-sign-in")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.wait_for_url("**/keys")  # back where the person was going, without a page load
    page.get_by_role("heading", name="API keys", exact=True).wait_for()
    assert page.locator("#account").get_by_text(CLERK_USER).is_visible()

    # Every API call carried a token Clerk minted for this session, and Muse accepted it.
    session_id = clerk_fapi.session["id"]
    sent = {b.removeprefix("Bearer ") for b in bearers if b.startswith("Bearer ")}
    assert sent, "no API call carried a bearer token"
    for token in sent:
        claims = jwt.decode(token, clerk_fapi.public_pem, algorithms=["RS256"], options={"verify_exp": False})
        assert (claims["sub"], claims["sid"]) == (CLERK_USER, session_id)
        assert claims["exp"] - claims["iat"] == TOKEN_TTL_S  # a renewed token, not the one that ran out
    assert ("POST", f"/v1/client/sessions/{session_id}/tokens") in clerk_fapi.calls  # renewed by Clerk

    page.reload()  # Clerk's session survives a reload
    page.get_by_role("heading", name="API keys", exact=True).wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    page.get_by_label("Email address").wait_for()  # Clerk's component again
    assert clerk_fapi.session is None  # the session ended at Clerk
    page.goto("/keys")
    page.wait_for_url("**/sign-in?next=%2Fkeys")
