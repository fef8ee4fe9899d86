"""Pure rules of the OpenAI-compatible API: token estimates and size → aspect ratio."""

from __future__ import annotations

import pytest

from services.chat.openai_compat import aspect_ratio_for_size, estimate_tokens, estimate_usage, usage_of


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)])
def test_tokens_are_estimated_at_four_characters_each_rounded_up(text, tokens):
    assert estimate_tokens(text) == tokens


def test_usage_adds_the_chat_framing_to_the_prompt():
    usage = estimate_usage([("system", "Be brief."), ("user", "Hello there")], "Hi! How can I help?")
    assert usage.prompt_tokens == 3 * 2 + 3 + 3 + 3  # framing per message, reply priming, texts
    assert usage.completion_tokens == 5
    assert usage.as_dict() == {"prompt_tokens": 15, "completion_tokens": 5, "total_tokens": 20}


@pytest.mark.parametrize(("size", "ratio"), [
    (None, "1:1"), ("auto", "1:1"), ("1024x1024", "1:1"), ("256x256", "1:1"), ("1792x1024", "16:9"),
    ("1024x1792", "9:16"), ("1536x1024", "3:2"), ("1024x1536", "2:3"), ("1024X768", "4:3"),
])
def test_sizes_map_to_the_nearest_supported_aspect_ratio(size, ratio):
    assert aspect_ratio_for_size(size) == ratio


@pytest.mark.parametrize("size", ["huge", "1024", "0x1024", "1024x", "-5x5"])
def test_malformed_sizes_are_refused(size):
    assert aspect_ratio_for_size(size) is None


def test_reported_counts_win_over_the_estimate():
    assert usage_of((7, 2), [("user", "x" * 400)], "y" * 400).as_dict() == {
        "prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
    prompt = [("user", "abcd")]
    assert usage_of(None, prompt, "abcd") == estimate_usage(prompt, "abcd")
