"""The chat's actions in a real browser (contract §21 through the public API): copy an answer,
regenerate it (the old one kept as an alternative), edit a question and re-send it (a branch),
"‹ 2/3 ›" between alternatives, remembered across a reload, and the keyboard shortcuts."""

from __future__ import annotations

from tests.browser.conftest import sign_in


def ask(page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    settle(page)


def settle(page) -> None:
    """Wait until the answer is whole and the thread was read back (its messages carry ids)."""
    page.wait_for_function("""() => !document.querySelector('.msg.assistant[aria-busy]')
        && [...document.querySelectorAll('.msg')].every((m) => m.dataset.id)""", timeout=20_000)


def test_copy_regenerate_switch_versions_and_edit_and_resend(page, muse):
    muse.gemini.chunk_delay_s = 0.01
    try:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        sign_in(page, "user_actions")
        muse.gemini.reply = "The first answer."
        ask(page, "What is a branch?")
        answer = page.locator(".msg.assistant").last
        answer.get_by_role("button", name="Copy", exact=True).click()
        assert page.evaluate("navigator.clipboard.readText()") == "The first answer."
        page.get_by_role("status").get_by_text("Copied to the clipboard.").wait_for()
        muse.gemini.reply = "A second take."
        answer.get_by_role("button", name="Regenerate").click()
        settle(page)
        answer = page.locator(".msg.assistant").last
        assert answer.locator(".body").inner_text() == "A second take."
        versions = answer.get_by_role("group", name="Version 2 of 2")
        versions.get_by_role("button", name="Previous version").click()
        page.locator(".msg.assistant .body").get_by_text("The first answer.").wait_for()
        page.reload()  # the branch shown is remembered
        page.locator(".msg.assistant").wait_for()
        page.locator(".msg.assistant").get_by_role("group", name="Version 1 of 2").wait_for()
        assert page.locator(".msg.assistant .body").inner_text() == "The first answer."
        # Edit the question and re-send: a branch with its own answer.
        muse.gemini.reply = "About trees."
        page.locator(".msg.user").get_by_role("button", name="Edit").click()
        page.get_by_label("Edit your message").fill("What is a tree?")
        page.locator(".edit-form").get_by_role("button", name="Send").click()
        settle(page)
        assert page.locator(".msg.user .body").inner_text() == "What is a tree?"
        assert page.locator(".msg.assistant .body").inner_text() == "About trees."
        page.locator(".msg.user").get_by_role("group", name="Version 2 of 2").wait_for()
        assert muse.gemini.calls[-1].body["contents"][-1]["parts"][0]["text"] == "What is a tree?"
        page.locator(".msg.user").get_by_role("button", name="Previous version").click()
        page.locator(".msg.user .body").get_by_text("What is a branch?").wait_for()
        # Back on the first question, its newest answer shows (the API continues through the newest reply).
        page.locator(".msg.assistant").get_by_role("group", name="Version 2 of 2").wait_for()
        assert page.locator(".msg.assistant .body").inner_text() == "A second take."
    finally:
        muse.gemini.chunk_delay_s = 0.12
