"""The web app in a real browser: the flows a person goes through, over the public API only."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, shoot, sign_in

CHAT_REPLY = ("Here is **bold** text and `inline code` in an answer long enough "
              "to arrive in several pieces, <img src=x onerror=window.pwned=1> one word at a time, slowly")


def test_dev_sign_in_then_a_streamed_answer_appears_progressively_and_lands_in_the_sidebar(page, muse):
    muse.gemini.reply = CHAT_REPLY
    page.goto("/")
    page.wait_for_url("**/sign-in")
    shoot(page, "sign-in")
    sign_in(page, "user_chat")
    premium = page.get_by_label("Model").locator("option", has_text="premium")
    assert premium.is_disabled() and "needs SUBSCRIBER" in premium.inner_text()  # locked for USER
    page.get_by_label("Message", exact=True).fill("Tell me something bold")
    page.get_by_role("button", name="Send").click()
    # Part of the answer is on screen before the rest has arrived.
    page.wait_for_function("""() => { const b = [...document.querySelectorAll('.msg.assistant .body')].pop();
        return b && b.textContent.includes('Here is') && !b.textContent.includes('slowly'); }""")
    assert page.get_by_role("button", name="Stop").is_visible()
    answer = page.locator(".msg.assistant").last
    answer.get_by_text("slowly").wait_for()
    assert answer.locator("strong").inner_text() == "bold"
    assert answer.locator("code").inner_text() == "inline code"
    assert "<img src=x onerror=window.pwned=1>" in answer.inner_text()  # shown as text, never as HTML
    assert answer.locator("img").count() == 0 and page.evaluate("window.pwned") is None
    page.wait_for_url(re.compile(r"/chat/cnv_\w+"))
    sidebar = page.get_by_role("navigation", name="Conversations")
    sidebar.get_by_role("link", name="Tell me something bold", exact=True).wait_for()
    expect(page.locator("#credits-pill")).to_have_text("24 credits", timeout=15_000)
    page.reload()  # the URL of the conversation survives a reload
    page.locator(".msg.assistant").get_by_text("slowly").wait_for()
    shoot(page, "chat")


def test_stop_ends_a_stream_and_keeps_what_arrived(page, muse):
    muse.gemini.reply = " ".join(f"word{i}" for i in range(60))
    sign_in(page, "user_stop")
    page.get_by_label("Message", exact=True).fill("A long answer please")
    page.get_by_role("button", name="Send").click()
    page.locator(".msg.assistant").get_by_text("word2").wait_for()
    page.get_by_role("button", name="Stop").click()
    page.locator(".msg.assistant").get_by_text("Stopped.").wait_for()
    assert "word59" not in page.locator(".msg.assistant").inner_text()
    assert page.get_by_role("button", name="Send").is_enabled()


def test_generate_then_recent_detail_save_share_signed_out_and_delete(page, muse, browser):
    sign_in(page, "user_images")
    page.get_by_role("link", name="Studio", exact=True).click()
    page.get_by_label("Prompt", exact=True).fill("a red fox in snow")
    page.get_by_label("Aspect ratio").select_option("16:9")
    page.get_by_role("button", name="Generate").click()
    page.get_by_role("status").get_by_text("Done").wait_for()
    shoot(page, "studio")
    page.get_by_role("link", name="Gallery", exact=True).click()
    tile = page.get_by_role("link", name=re.compile("a red fox in snow"))
    tile.first.wait_for()
    assert "Expires in" in tile.first.inner_text()
    shoot(page, "gallery")
    tile.first.click()
    page.wait_for_url(re.compile(r"/images/img_\w+"))
    image_path = page.url
    page.reload()  # the detail URL works on its own
    page.get_by_role("img", name="a red fox in snow").wait_for()
    page.set_viewport_size(PHONE)  # at a phone's width, nothing covers the share link once it shows
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Saved").wait_for()
    page.get_by_role("status").get_by_text("Saved: it will not expire.").wait_for()
    page.get_by_role("button", name="Share").click()
    field = page.get_by_label("Public link")
    field.scroll_into_view_if_needed()
    assert field.evaluate("""(el) => { const r = el.getBoundingClientRect();  // inside the round corners
        const [x0, x1, y0, y1] = [r.left + 10, r.right - 10, r.top + 6, r.bottom - 6];
        return [[x0, y0], [x1, y0], [(x0 + x1) / 2, (y0 + y1) / 2], [x0, y1], [x1, y1]]
          .every(([x, y]) => document.elementFromPoint(x, y) === el); }"""), "something covers the share link"
    page.set_viewport_size(DESKTOP)
    link = field.input_value()
    assert link.startswith(f"{muse.url}/s/")
    assert len(link.rsplit("/", 1)[1]) >= 22  # ≥ 128 random bits, base64url
    shoot(page, "image-detail")

    stranger = browser.new_context()  # signed out
    public = stranger.new_page()
    assert public.goto(link).status == 200
    assert public.get_by_text("a red fox in snow").first.is_visible()
    assert public.get_by_role("img", name="a red fox in snow").evaluate("img => img.naturalWidth") > 0
    public.screenshot(path=str(SCREENSHOTS / "share-page-desktop.png"), full_page=True)

    page.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/gallery")
    gone = public.goto(link)  # deleting the image revoked its link: a page that says so, to a browser
    assert gone.status == 404 and gone.headers["content-type"].startswith("text/html")
    public.get_by_role("heading", name="This link no longer works").wait_for()
    public.screenshot(path=str(SCREENSHOTS / "share-gone-desktop.png"), full_page=True)
    public.set_viewport_size(PHONE)
    public.screenshot(path=str(SCREENSHOTS / "share-gone-phone.png"), full_page=True)
    stranger.close()
    problem = httpx.get(link)  # any other client still gets the problem
    assert problem.status_code == 404
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(image_path).status_code == 200  # the app page itself still answers (then says not found)


def _png(path) -> str:
    picture = io.BytesIO()
    Image.new("RGB", (96, 64), "teal").save(picture, format="PNG")
    path.write_bytes(picture.getvalue())
    return str(path)


def test_edit_and_describe_an_uploaded_png(page, muse, tmp_path):
    png = _png(tmp_path / "teal.png")
    muse.gemini.reply = "A calm teal fox with a curious look."
    sign_in(page, "user_edit")
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Picture to use").set_input_files(png)
    page.get_by_label("What to change").fill("add a small moon")
    page.get_by_role("button", name="Edit image").click()
    page.get_by_role("status").get_by_text("Done").wait_for()
    assert page.get_by_role("link", name=re.compile("add a small moon")).count() == 1
    shoot(page, "edit")
    page.get_by_role("link", name="Describe", exact=True).click()
    page.get_by_label("Picture to use").set_input_files(png)
    page.get_by_role("button", name="Describe").click()
    page.get_by_text("A calm teal fox with a curious look.").wait_for()
    page.get_by_label("My own instruction").check()
    page.get_by_label("Instruction", exact=True).fill("Name the main colour.")
    page.get_by_role("button", name="Describe").click()
    page.get_by_role("status").get_by_text("Done.").wait_for()
    shoot(page, "describe")


def test_buying_a_pack_through_paypal_raises_the_balance_once(page, muse, watch):
    sign_in(page, "user_buyer")
    page.get_by_role("link", name="Credits", exact=True).click()
    page.get_by_test_id("balance").get_by_text("0").wait_for()
    shoot(page, "credits")
    page.get_by_role("button", name=re.compile("Buy 100 credits")).click()
    page.wait_for_url("**/checkout/success?payment_id=*")
    page.get_by_text("+100 credits").wait_for()
    page.reload()  # coming back again credits nothing more
    page.get_by_text("+100 credits").wait_for()
    shoot(page, "checkout-success")
    page.get_by_role("link", name="Back to credits", exact=True).click()
    page.get_by_test_id("balance").get_by_text("100").wait_for()
    token = muse.token("user_buyer")
    entries = muse.call("GET", "/api/v1/credits/ledger", token).json()["items"]
    assert [e["kind"] for e in entries] == ["purchase"]
    assert muse.call("GET", "/api/v1/credits", token).json()["balance"] == 100


def test_buying_a_pack_by_card_through_stripe_then_opening_the_billing_portal(page, muse, watch):
    watch.allowed.add(("/api/v1/billing/portal", 404))
    sign_in(page, "user_card")
    page.get_by_role("link", name="Credits", exact=True).click()
    page.get_by_test_id("balance").get_by_text("0").wait_for()
    # No card payment yet: no billing account to manage, said plainly.
    page.get_by_role("button", name="Manage card billing").click()
    page.get_by_text("no card billing account yet").wait_for()

    page.get_by_role("radio", name="Card (Stripe)").check()
    page.get_by_role("button", name=re.compile("Buy 100 credits")).click()
    page.wait_for_url("**/checkout/success?payment_id=*")  # via Stripe's checkout and Muse's return route
    page.get_by_text("+100 credits").wait_for()
    page.get_by_role("link", name="Back to credits", exact=True).click()
    page.get_by_test_id("balance").get_by_text("100").wait_for()
    page.get_by_text("Payments", exact=True).click()
    page.get_by_role("cell", name="Card (Stripe)").wait_for()
    token = muse.token("user_card")
    ledger = muse.call("GET", "/api/v1/credits/ledger", token).json()["items"]
    assert [e["kind"] for e in ledger] == ["purchase"]
    assert [p["provider"] for p in muse.call("GET", "/api/v1/payments", token).json()["items"]] == ["stripe"]

    page.get_by_role("button", name="Manage card billing").click()
    page.wait_for_url(f"{muse.stripe.url}/p/session/*")
    page.get_by_role("heading", name=re.compile("Billing portal of cus_")).wait_for()


def test_redeeming_a_gift_code(page, muse, watch):
    watch.allowed.add(("/api/v1/gift-codes/redeem", 409))
    admin = muse.token("user_gift_admin", "ADMIN")
    code = muse.call("POST", "/api/v1/admin/gift-codes", admin, json={"tier": "gift_999", "count": 1}).json()
    code = code["codes"][0]["code"]
    sign_in(page, "user_gifted")
    page.goto("/credits")
    page.get_by_label("Gift code").fill(code.lower())
    page.get_by_role("button", name="Redeem").click()
    page.get_by_text("Gift code redeemed.").wait_for()
    page.get_by_text("gift_999, expires").wait_for()
    page.get_by_label("Gift code").fill(code)
    page.get_by_role("button", name="Redeem").click()
    page.get_by_text("That code was already redeemed.").wait_for()
    page.get_by_text("Request ID for support").wait_for()


def test_create_then_revoke_an_api_key(page, muse, watch):
    sign_in(page, "user_keys")
    page.get_by_role("link", name="API keys", exact=True).click()
    page.get_by_label("Key name").fill("my script")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("New API key").input_value()
    assert secret.startswith("mk_")
    assert page.get_by_role("button", name="Copy key").is_visible()
    page.get_by_role("cell", name="my script", exact=True).wait_for()
    with_key = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{muse.url}/api/v1/me", headers=with_key).status_code == 200
    shoot(page, "api-keys")
    page.get_by_role("button", name="Revoke my script").click()
    page.get_by_text("No keys yet.").wait_for()
    assert page.get_by_role("link", name="Admin", exact=True).count() == 0  # hidden from a USER
    page.goto("/admin")
    page.get_by_role("heading", name="Not available").wait_for()
    assert httpx.get(f"{muse.url}/api/v1/me", headers=with_key).status_code == 401


def test_admin_switches_maintenance_on_and_people_see_it(page, muse, watch, browser):
    watch.allowed |= {("*", 503)}
    admin = muse.token("user_root", "ADMIN")
    try:
        sign_in(page, "user_root", "ADMIN")
        page.get_by_role("link", name="Admin", exact=True).click()
        page.get_by_text("Provider health").wait_for()
        # Providers are labelled by what they do (CHAT_PROVIDERS=gemini, IMAGE_PROVIDERS=local here).
        chart = page.locator(".barrow span:first-child").all_inner_texts()
        assert {"chat:gemini", "chat:openai", "image:replicate", "image:local"} <= set(chart), chart
        assert "chat:replicate" not in chart, chart
        shoot(page, "admin")
        page.set_viewport_size(PHONE)  # no label runs into its bar at a phone's width
        spilled = page.evaluate("""() => [...document.querySelectorAll('.barrow > span:first-child')]
            .filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent)""")
        page.set_viewport_size(DESKTOP)
        assert spilled == [], spilled
        page.get_by_role("link", name="Settings", exact=True).click()
        page.get_by_label(re.compile("Maintenance mode")).check()
        page.get_by_role("button", name="Save settings").click()
        page.get_by_text("Settings saved.").wait_for()
        shoot(page, "admin-settings")
        page.get_by_role("link", name="Audit log", exact=True).click()
        page.get_by_role("cell", name=re.compile("maintenance_mode: false → true")).wait_for()
        page.get_by_role("link", name="Users", exact=True).click()
        page.get_by_role("link", name="user_root").wait_for()
        # A person (the admin too, outside the console) sees the maintenance message.
        page.goto("/chat")
        page.get_by_role("alert").filter(has_text="Muse is down for maintenance").first.wait_for()
        person = browser.new_context(base_url=muse.url)
        other = person.new_page()
        sign_in(other, "user_visitor")
        other.get_by_role("heading", name="Down for maintenance").wait_for()
        other.get_by_text("Muse is down for maintenance").first.wait_for()
        shoot(other, "maintenance")
        person.close()
    finally:
        muse.call("PATCH", "/api/v1/admin/settings", admin, json={"maintenance_mode": False})
