"""Chat answers rendered by markdown-it + highlight.js + DOMPurify (web/assets/js/markdown.js).

The XSS vectors are DOMPurify's own test vectors (tests/browser/fixtures/dompurify_vectors.json,
the payloads of cure53/DOMPurify test/fixtures/expect.mjs at 3.4.14, Apache-2.0/MPL-2.0) plus
Markdown-specific ones; they arrive as a model's answer through the chat, and go through the
sanitizer straight into the live page.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.browser.conftest import sign_in

VECTORS = [v["payload"] for v in json.loads(
    (Path(__file__).parent / "fixtures" / "dompurify_vectors.json").read_text())]
MARKDOWN_VECTORS = [
    "[a](javascript:alert(1))", "[b](JaVaScRiPt:alert(1))", "[c](&#106;avascript:alert(1))",
    "[d](javascript&#58;alert(1))", "[e]( javascript:alert(1))", "[f](vbscript:msgbox(1))",
    "[g](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "![h](javascript:alert(1))",
    "<javascript:alert(1)>", "[i][ref]\n\n[ref]: javascript:alert(1)", "[j](//evil.example/x)",
    "![k](https://evil.example/pixel.png)", "[l](\\\\evil.example\\x)",
]

# Records any script the payloads manage to run (CSP would block most inline script anyway; the
# DOM checks below hold without it).
RECORD = """() => { window.__ran = []; for (const name of ['alert', 'confirm', 'prompt', 'print'])
  window[name] = (...args) => window.__ran.push([name, ...args].join(' ')); }"""
# Anything dangerous left in `selector` after rendering.
DANGER = """(selector) => {
  const root = document.querySelector(selector); const bad = [];
  for (const el of root.querySelectorAll('*')) {
    if (['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'FORM', 'STYLE', 'BASE', 'META', 'LINK', 'svg', 'math']
        .includes(el.tagName)) bad.push('<' + el.tagName + '>');
    for (const attr of el.attributes) {
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (attr.name.startsWith('on') || attr.name === 'style' || attr.name === 'srcdoc'
          || /^(javascript|vbscript|data):/.test(value) || value.startsWith('//'))
        bad.push(el.tagName + ' ' + attr.name + '=' + attr.value.slice(0, 60));
    }
  }
  for (const a of root.querySelectorAll('a[href]'))
    if (!/^(https?:|mailto:|\\/[^\\/\\\\]|#)/i.test(a.getAttribute('href')))
      bad.push('a href=' + a.getAttribute('href'));
  return bad; }"""


def test_answers_render_tables_fenced_code_with_highlighting_and_safe_links(page, muse):
    muse.gemini.reply = (
        "# Title\n\n| Name | Price |\n| --- | ---: |\n| Tea | 3 |\n| Cake | 5 |\n\n"
        "```python\ndef greet(name):\n    return f\"hi {name}\"  # say hi\n```\n\n"
        "See [the docs](https://example.com/docs) and ~~old~~ *new*.\n")
    muse.gemini.chunk_delay_s = 0.01
    try:
        sign_in(page, "user_md")
        page.get_by_label("Message", exact=True).fill("Show me markdown")
        page.get_by_role("button", name="Send").click()
        answer = page.locator(".msg.assistant").last
        answer.locator("table").wait_for()
        page.wait_for_function("() => !document.querySelector('.msg.assistant[aria-busy]')")
    finally:
        muse.gemini.chunk_delay_s = 0.12
    assert answer.locator("h3").inner_text() == "Title"  # page and section headings come first
    assert answer.locator("th").all_inner_texts() == ["Name", "Price"]
    assert answer.locator("td").all_inner_texts() == ["Tea", "3", "Cake", "5"]
    code = answer.locator("pre code")
    assert "language-python" in (code.get_attribute("class") or "")
    assert code.locator(".hljs-keyword").first.inner_text() == "def"
    assert code.locator(".hljs-comment").inner_text() == "# say hi"
    assert answer.locator("pre[aria-label='python code'][tabindex='0']").count() == 1
    link = answer.get_by_role("link", name="the docs")
    assert link.get_attribute("href") == "https://example.com/docs"
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener noreferrer"
    assert answer.locator("s").inner_text() == "old" and answer.locator("em").inner_text() == "new"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    answer.get_by_role("button", name="Copy code").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == 'def greet(name):\n    return f"hi {name}"  # say hi'


def test_dompurify_vectors_through_chat_answers_run_no_script_and_leave_no_javascript_link(page, muse):
    page.add_init_script(f"({RECORD})()")
    sign_in(page, "user_xss")
    muse.gemini.chunk_delay_s = 0
    payloads = VECTORS + MARKDOWN_VECTORS
    batches = [payloads[i::4] for i in range(4)]
    try:
        for n, batch in enumerate(batches):
            muse.gemini.reply = "\n\n".join(batch)
            page.get_by_label("Message", exact=True).fill(f"Vectors, batch {n}")
            page.get_by_role("button", name="Send").click()
            page.locator(".msg.assistant").nth(n).wait_for()
            page.wait_for_function("() => !document.querySelector('.msg.assistant[aria-busy]')",
                                   timeout=30_000)
            page.get_by_role("button", name="Send").wait_for()
    finally:
        muse.gemini.chunk_delay_s = 0.12
    page.wait_for_timeout(300)  # let any handler that got through fire
    assert page.locator(".msg.assistant").count() == 4
    # Raw HTML in an answer is text: the payloads show up as written.
    shown = page.locator(".messages").inner_text()
    assert "<svg" in shown and "onerror" in shown
    assert page.evaluate(DANGER, ".messages") == []
    assert page.evaluate("window.__ran") == []
    # Markdown link vectors became no link at all; what links remain are web addresses in the text.
    hrefs = page.locator(".messages a[href]").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert hrefs
    assert [h for h in hrefs if not h.startswith(("http://", "https://"))] == []
    # A picture from another host is a link, never fetched; a protocol-relative link is none.
    assert "https://evil.example/pixel.png" in hrefs and "//evil.example/x" not in hrefs
    assert page.locator(".messages img").count() == 0


def test_dompurify_vectors_straight_through_the_sanitizer_into_the_page(page, muse, watch):
    # Chromium checks a style or event-handler attribute against the page's CSP (style-src and
    # script-src 'self') as soon as DOMPurify's inert parse of the payload meets it, and says so on
    # the console, before the sanitizer drops it: a second layer, expected here. What counts is
    # below: no handler ran and none is left in the page.
    watch.allowed_console += ["Applying inline style violates the following Content Security Policy",
                              "Executing inline event handler violates the following Content Security Policy"]
    page.add_init_script(f"({RECORD})()")
    sign_in(page, "user_xss_raw")
    kept = page.evaluate("""async (payloads) => {
        const { sanitize } = await import('/assets/js/markdown.js');
        const box = document.createElement('div'); box.id = 'xss-box';
        document.getElementById('main').append(box);
        for (const payload of payloads) { const item = document.createElement('div');
          item.append(sanitize(payload)); box.append(item); }
        await new Promise((resolve) => setTimeout(resolve, 500));
        return box.querySelectorAll('*').length; }""", VECTORS)
    assert kept > len(VECTORS)  # the sanitizer kept harmless markup (it is not just escaping text)
    assert page.evaluate(DANGER, "#xss-box") == []
    assert page.evaluate("window.__ran") == []
