"""Images in chat in a real browser: attach a file or a gallery image, see the answer, reload, the
image is still in the conversation (read with the token: it is never at a public URL)."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import shoot, sign_in


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(out, format="PNG")
    return out.getvalue()


LOADED = "() => [...document.querySelectorAll('.msg.user .msg-images img')].map(i => i.naturalWidth)"


def shown_images(page) -> list[int]:
    """The natural widths of the images in the user's messages (0 until one has loaded)."""
    return page.eval_on_selector_all(".msg.user .msg-images img", "imgs => imgs.map(i => i.naturalWidth)")


def test_attach_an_uploaded_image_see_the_answer_reload_and_it_is_still_there(page, muse, tmp_path):
    muse.gemini.reply = "A red rectangle, wide."
    picture = png("red")
    path = tmp_path / "red.png"
    path.write_bytes(picture)
    sign_in(page, "user_vision")
    page.get_by_label("Attach image").set_input_files(str(path))
    page.get_by_role("list", name="Attached images").get_by_role("img", name="red.png").wait_for()
    page.get_by_label("Message", exact=True).fill("What is in this picture?")
    page.get_by_role("button", name="Send").click()
    page.locator(".msg.assistant").get_by_text("A red rectangle, wide.").wait_for()
    assert page.get_by_role("list", name="Attached images").get_by_role("img").count() == 0  # cleared
    assert muse.gemini.images[-1] == ("image/png", picture)  # the bytes reached the provider
    page.wait_for_url("**/chat/cnv_*")
    expect(page.locator("#credits-pill")).to_have_text("23 credits", timeout=15_000)
    page.reload()
    page.locator(".msg.assistant").get_by_text("A red rectangle, wide.").wait_for()
    page.wait_for_function(f"() => {{ const w = ({LOADED})(); return w.length === 1 && w[0] === 96; }}")
    assert shown_images(page) == [96]
    shoot(page, "chat-image")


def test_pick_a_gallery_image_for_a_message(page, muse):
    muse.gemini.reply = "One of your own images."
    sign_in(page, "user_vision_gallery")
    token = muse.token("user_vision_gallery")
    made = muse.call("POST", "/api/v1/images", token, json={"prompt": "a lighthouse", "wait": True})
    assert made.status_code == 201, made.text
    page.get_by_role("button", name="From gallery").click()
    page.get_by_role("button", name="Attach “a lighthouse”").click()
    page.get_by_role("list", name="Attached images").get_by_role("img", name="a lighthouse").wait_for()
    before = len(muse.gemini.images)
    page.get_by_role("button", name="Send").click()  # an image alone is a message
    page.locator(".msg.assistant").get_by_text("One of your own images.").wait_for()
    assert len(muse.gemini.images) == before + 1
    page.wait_for_url("**/chat/cnv_*")
    page.reload()
    page.wait_for_function(f"() => {{ const w = ({LOADED})(); return w.length === 1 && w[0] > 0; }}")
