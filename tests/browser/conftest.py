"""Browser tests: Playwright (Python) driving Debian's Chromium against a real Muse.

One Muse process (`python -m app serve`, APP_ENV=development so the development sign-in
works) on the session's MongoDB-wire and Redis servers, its chat provider the Gemini wire
fake (streaming slowly enough to watch) and PayPal the PayPal wire fake; images come from
the offline `local` provider. One browser for the module, a fresh context per test.
Every test fails on a console error or a failed request (network error, 5xx, or a 4xx
the test did not expect). Screenshots go to var/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis

from tests.fakes.gemini import FakeGemini
from tests.fakes.paypal import CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID, FakePayPal
from tests.fakes.stripe import PRICE_IDS, SECRET_KEY, WEBHOOK_SECRET, FakeStripe

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = os.environ.get("MUSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP, PHONE = {"width": 1280, "height": 820}, {"width": 360, "height": 740}
CORS_ORIGIN = "http://app.example.test"

sync_api = pytest.importorskip("playwright.sync_api", reason="`make test` installs playwright")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Muse:
    """The running server and its fakes."""

    url: str
    gemini: FakeGemini
    paypal: FakePayPal
    stripe: FakeStripe
    log_path: Path

    def token(self, user: str, role: str = "USER") -> str:
        """A development token (through the public dev sign-in endpoint)."""
        answer = httpx.post(f"{self.url}/api/v1/dev/token", json={"user": user, "role": role})
        answer.raise_for_status()
        return answer.json()["token"]

    def call(self, method: str, path: str, token: str, **kwargs) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"},
                             timeout=10, **kwargs)


@pytest.fixture(scope="module")
def _muse_process(servers, tmp_path_factory) -> Iterator[tuple[subprocess.Popen, Muse]]:
    """Start one Muse web process (development mode, wire fakes); `muse` waits until it serves."""
    with run_muse(servers, tmp_path_factory) as started:
        yield started


@contextmanager
def run_muse(servers, tmp_path_factory, **extra_env: str) -> Iterator[tuple[subprocess.Popen, Muse]]:
    """One Muse web process with the wire fakes; `extra_env` adds or overrides its settings (a module
    overrides `_muse_process` with it, e.g. AUTH_PROVIDER=local)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    gemini = FakeGemini().start()
    gemini.chunk_delay_s = 0.12
    paypal = FakePayPal().start()
    stripe = FakeStripe().start()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    base = tmp_path_factory.mktemp("browser-muse")
    # each module's Muse starts on a flushed Redis, as each API test does (tests/conftest.py `settings`):
    # the chat cache is shared by users, so a module asking what an earlier one asked got free answers
    with redis.Redis.from_url(servers["redis_url"]) as client:
        client.flushdb()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(
        ("MONGODB_", "REDIS_", "CLERK_", "GEMINI_", "OPENAI_", "REPLICATE_", "PAYPAL_", "STRIPE_",
         "CLOUDINARY_", "PAYMENT_"))}
    env.update({
        "APP_ENV": "development", "MONGODB_URI": servers["mongodb_uri"], "REDIS_URL": servers["redis_url"],
        "MONGODB_DB": f"t_browser_{uuid.uuid4().hex[:8]}", "VAR_DIR": str(base / "var"),
        "MEDIA_DIR": str(base / "media"), "EXPORT_DIR": str(base / "exports"),
        "QUEUE_NAME": f"muse:queue:b{uuid.uuid4().hex[:6]}",
        "WORKER_IN_PROCESS": "true", "RATE_LIMITS_ENABLED": "false", "LOG_LEVEL": "WARNING",
        "GEMINI_API_KEY": gemini.api_key, "GEMINI_BASE_URL": gemini.url, "CHAT_PROVIDERS": "gemini",
        "IMAGE_PROVIDERS": "local", "AI_TIMEOUT_S": "10", "IMAGE_TIMEOUT_S": "20",
        "PAYPAL_BASE_URL": paypal.url, "PAYPAL_CLIENT_ID": CLIENT_ID, "PAYPAL_CLIENT_SECRET": CLIENT_SECRET,
        "PAYPAL_WEBHOOK_ID": WEBHOOK_ID, "PAYPAL_TIMEOUT_S": "5",
        "PAYPAL_PLAN_IDS": "starter=P-STARTER,enterprise=P-ENTERPRISE",
        "STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_BASE_URL": stripe.url,
        "STRIPE_PRICE_IDS": ",".join(f"{plan}={price}" for plan, price in PRICE_IDS.items()),
        "STRIPE_TIMEOUT_S": "5",
        "PUBLIC_BASE_URL": url, "CHECKOUT_SUCCESS_URL": f"{url}/checkout/success",
        "CHECKOUT_CANCEL_URL": f"{url}/checkout/cancel", "CORS_ORIGINS": CORS_ORIGIN,
        "NO_PROXY": "127.0.0.1,localhost",
    })
    env.update(extra_env)
    log_path = base / "muse.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process, Muse(url=url, gemini=gemini, paypal=paypal, stripe=stripe, log_path=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        gemini.stop()
        paypal.stop()
        stripe.stop()


@pytest.fixture(scope="module")
def muse(_muse_process) -> Muse:
    """The running Muse, once /health/live answers."""
    process, server = _muse_process
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{server.url}/health/live", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail("Muse did not start:\n" + server.log_path.read_text()[-3000:])
        time.sleep(0.2)


@pytest.fixture(scope="module")
def browser(_muse_process):  # Muse starts first and boots while Chromium launches
    """Debian's Chromium, once per module (Playwright's sync API holds an event loop on this thread
    while it runs, so it must be gone before the suite's async tests run)."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session", autouse=True)
def _screenshots_dir() -> None:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)


@dataclass
class Watch:
    """Console errors and failed requests seen by one page."""

    problems: list[str] = field(default_factory=list)
    allowed: set[tuple[str, int]] = field(default_factory=set)  # (path, status) answers the test expects
    allowed_console: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture(scope="module")
def context_options() -> dict:
    """Extra browser-context options (a module overrides this, e.g. to accept a fake's certificate)."""
    return {}


@pytest.fixture
def page(browser, muse: Muse, watch: Watch, context_options: dict):
    """A fresh browser context (no session) whose console and network are watched."""
    from urllib.parse import urlsplit

    context = browser.new_context(viewport=DESKTOP, base_url=muse.url, accept_downloads=True,
                                  **context_options)
    context.set_default_timeout(10_000)
    tab = context.new_page()

    def on_console(message) -> None:
        if message.type != "error":
            return
        text = message.text
        if text.startswith("Failed to load resource: the server responded with a status of"):
            return  # reported (with its URL) by on_response below
        if not any(fragment in text for fragment in watch.allowed_console):
            watch.problems.append(f"console: {text}")

    def on_response(response) -> None:
        path = urlsplit(response.url).path
        expected = (path, response.status) in watch.allowed or ("*", response.status) in watch.allowed
        if response.status >= 400 and not expected:
            watch.problems.append(f"{response.request.method} {path} → {response.status}")

    def on_failed(request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure:
            return  # cancelled by the page itself: the Stop button, or a navigation away
        watch.problems.append(f"failed: {request.method} {request.url} ({failure})")

    tab.on("console", on_console)
    tab.on("pageerror", lambda exc: watch.problems.append(f"page error: {exc}"))
    tab.on("response", on_response)
    tab.on("requestfailed", on_failed)
    tab.on("dialog", lambda dialog: dialog.accept())
    yield tab
    context.close()
    assert watch.problems == [], "console errors / failed requests:\n" + "\n".join(watch.problems)


def shoot(page, name: str) -> None:
    """Full-page screenshots at desktop and phone widths under var/screenshots/."""
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    assert overflow <= PHONE["width"] + 1, f"{name}: the page is {overflow} px wide at {PHONE['width']} px"
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => el.type !== 'hidden' && el.getClientRects().length  // display:none: for no one
                      && !el.labels?.length && !el.getAttribute('aria-label'))
        .map((el) => el.name || el.outerHTML.slice(0, 60))""")
    assert unlabelled == [], f"{name}: inputs without a label: {unlabelled}"


def sign_in(page, user: str, role: str = "USER") -> None:
    """The development sign-in, as a person does it."""
    page.goto("/")
    page.get_by_label("User ID").fill(user)
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/chat")
