"""The web app's message catalogue (web/assets/js/i18n/): every language has every message, every
message the code looks up exists, and every problem code Muse's API can answer has a message of
the app's own (Muse's problem titles stay English; the app speaks the person's language).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "web" / "assets" / "js"
LANGUAGES = ("en", "de", "es")
PARTS = ("", "-app", "-media", "-account")
# Codes the web app makes itself (api.js, auth.js) besides those of the API
APP_CODES = {"network_error", "password_rules", "email_invalid", "login_failed"}


def catalogue(lang: str) -> dict[str, object]:
    """One language's messages, read as the JSON object each module's `export default` is."""
    messages: dict[str, object] = {}
    for part in PARTS:
        text = (JS / "i18n" / f"{lang}{part}.js").read_text()
        body = text[text.index("export default") + len("export default"):].strip().rstrip(";")
        body = re.sub(r",(\s*})", r"\1", body)  # JS allows a trailing comma, JSON does not
        part_messages = json.loads(body)
        assert not set(part_messages) & set(messages), f"{lang}{part}: a key defined twice"
        messages.update(part_messages)
    return messages


def api_problem_codes() -> set[str]:
    """Every `code` an error of Muse can carry: the status table and each error class's code."""
    codes = set(re.findall(r'^\s+"([a-z_]+)": \d{3},$', (ROOT / "app" / "problems.py").read_text(), re.M))
    for folder in ("services", "controllers", "app", "middlewares", "providers", "repositories"):
        for source in (ROOT / folder).rglob("*.py"):
            codes |= set(re.findall(r'code, title = "([a-z_]+)"', source.read_text()))
            codes |= set(re.findall(r'^\s+code: str = "([a-z_]+)"', source.read_text(), re.M))
    return codes


def test_every_language_has_the_same_messages_with_the_same_placeholders():
    english = catalogue("en")
    assert len(english) > 300
    for lang in LANGUAGES[1:]:
        other = catalogue(lang)
        assert set(other) == set(english), (lang, set(english) ^ set(other))
        for key, message in english.items():
            places = sorted(set(re.findall(r"\{\w+\}", json.dumps(message))))
            assert sorted(set(re.findall(r"\{\w+\}", json.dumps(other[key])))) == places, (lang, key)
            assert type(other[key]) is type(message), (lang, key)


def test_every_problem_code_of_the_api_has_a_message_in_every_language():
    codes = api_problem_codes()
    assert {"insufficient_credits", "payment_flagged", "model_not_found", "feature_disabled"} <= codes
    for lang in LANGUAGES:
        messages = catalogue(lang)
        missing = sorted(code for code in codes | APP_CODES if f"problem.{code}" not in messages)
        assert missing == [], f"{lang}: problem codes without a message: {missing}"


def test_every_message_the_code_looks_up_is_in_the_catalogue():
    english = catalogue("en")
    used: dict[str, str] = {}
    for script in JS.rglob("*.js"):
        if "i18n" in script.parts:
            continue
        for key in re.findall(r'\bt\("([\w.]+)"', script.read_text()):
            used[key] = script.name
    assert len(used) > 250
    missing = {key: where for key, where in used.items() if key not in english}
    assert missing == {}, f"looked up but not in the catalogue: {missing}"
