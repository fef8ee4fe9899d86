"""Every page of the web app, with something on each: a signed-in person's data made through the
public API (a conversation, an image, a video, an API key, a gift code, a ledger entry), and the
list of pages (signed out and signed in) the language, accessibility and screenshot tests visit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from tests.browser.conftest import Muse

SIGNED_OUT = ["/sign-in"]


@dataclass
class Site:
    user: str
    user_id: str
    conversation: str
    image: str
    video: str

    def pages(self) -> list[str]:
        """Every signed-in page, each with its data (an admin's view: the admin pages too)."""
        return [f"/chat/{self.conversation}", "/studio", "/gallery", "/gallery?tab=saved",
                f"/images/{self.image}", "/videos", f"/videos/{self.video}", "/edit", "/describe", "/credits",
                "/usage", "/keys", "/account", "/checkout/cancel", "/admin", "/admin/analytics",
                "/admin/users", f"/admin/users/{self.user_id}", "/admin/gift-codes", "/admin/settings",
                "/admin/audit", "/checkout/nowhere"]


def _ok(answer: httpx.Response) -> dict:
    assert answer.status_code < 300, (answer.request.url, answer.status_code, answer.text[:300])
    return answer.json() if answer.content else {}


def _settled(muse: Muse, token: str, path: str) -> dict:
    """The media job at `path` once it has finished (its status read until it is terminal)."""
    deadline = time.monotonic() + 30
    while True:
        job = _ok(muse.call("GET", path, token))
        if job["status"] in ("completed", "failed", "expired"):
            assert job["status"] == "completed", job
            return job
        assert time.monotonic() < deadline, f"{path} did not finish: {job['status']}"
        time.sleep(0.2)


def seed(muse: Muse, user: str) -> Site:
    """An admin `user` with one of everything, made through the API as a client would."""
    token = muse.token(user, "ADMIN")
    me = _ok(muse.call("GET", "/api/v1/me", token))
    chat = _ok(muse.call("POST", "/api/v1/chat", token, json={
        "messages": [{"role": "user", "content": "Plan two days in Lisbon"}], "stream": False}))
    image = _ok(muse.call("POST", "/api/v1/images", token,
                          json={"prompt": "a lighthouse at dusk", "wait": True}))
    image = _settled(muse, token, f"/api/v1/images/{image['id']}")
    video = _ok(muse.call("POST", "/api/v1/videos", token, json={"prompt": "a paper boat", "duration_s": 1}))
    _settled(muse, token, f"/api/v1/videos/{video['id']}")
    _ok(muse.call("POST", "/api/v1/api-keys", token, json={"name": "my script", "daily_credit_cap": 50}))
    _ok(muse.call("POST", "/api/v1/admin/gift-codes", token, json={"count": 1, "credits": 5}))
    _ok(muse.call("POST", f"/api/v1/admin/users/{me['id']}/credits", token,
                  json={"delta": 12345, "reason": "test grant"}))
    return Site(user=user, user_id=me["id"], conversation=chat["conversation_id"], image=image["id"],
                video=video["id"])


def settle(page) -> None:
    """The page has drawn: its heading is there, no request is in flight, and every folded
    section (history, payments, limits) is open as a person would open it."""
    page.locator("main h1").first.wait_for()
    page.wait_for_load_state("networkidle")
    for details in page.locator("main details").all():
        if not details.evaluate("(el) => el.open"):
            details.locator("summary").first.click()
    page.wait_for_load_state("networkidle")
