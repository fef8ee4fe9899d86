"""Truncated provider answers (issue 19): a stream or answer without its end marker is a failure.

Both cut modes of the wire fakes — a protocol error (`drop`) and a clean close without
`finish_reason` / `finishReason` (`cut`) — before the first delta (transparent failover) and
after it (`event: error`, refunded once, nothing cached or stored), for both providers.
"""

from __future__ import annotations

import pytest

from tests.api.test_chat_api import body, events, ledger_kinds, post, user_of
from tests.fixtures.identity import auth_headers

PRIMARIES = {"gemini": ["gemini", "openai"], "openai": ["openai", "gemini"]}


def _fakes(primary: str, fake_gemini, fake_openai):
    return (fake_gemini, fake_openai) if primary == "gemini" else (fake_openai, fake_gemini)


@pytest.mark.parametrize("mode", ["drop", "cut"])
@pytest.mark.parametrize("primary", ["gemini", "openai"])
async def test_a_cut_before_the_first_delta_fails_over_and_charges_once(
        chat_app_factory, fake_gemini, fake_openai, primary, mode):
    first, second = _fakes(primary, fake_gemini, fake_openai)
    first.reply, second.reply = "one two three four", "the fallback answers"
    first.mode, first.cut_after = mode, 0
    async with chat_app_factory(chat_providers=PRIMARIES[primary]) as app:
        got = events(await (await post(app, body("Cut early", stream=True))).get_data(as_text=True))
        assert [n for n, _ in got] == ["meta", "delta", "delta", "delta", "done"]
        assert got[0][1]["provider"] == second.__class__.__name__.removeprefix("Fake").lower()
        assert "".join(d["content"] for n, d in got if n == "delta") == "the fallback answers"
        assert got[-1][1]["credits_charged"] == 1
        assert first.count() == 1 and second.count() == 1
        assert await ledger_kinds(app, (await user_of(app, "alice")).id) == ["chat"]


@pytest.mark.parametrize("mode", ["drop", "cut"])
@pytest.mark.parametrize("primary", ["gemini", "openai"])
async def test_a_cut_after_the_first_delta_is_an_error_refunded_once_never_cached_or_stored(
        chat_app_factory, fake_gemini, fake_openai, primary, mode):
    first, second = _fakes(primary, fake_gemini, fake_openai)
    async with chat_app_factory(chat_providers=PRIMARIES[primary]) as app:
        # an existing conversation, so we can see that nothing incomplete is appended to it
        started = await (await post(app, body("Remember me"))).get_json()
        first.reset()
        first.reply, first.mode, first.cut_after = "one two three four five six", mode, 2
        cnv = started["conversation_id"]
        got = events(await (await post(app, body("Cut late", stream=True, conversation_id=cnv)))
                     .get_data(as_text=True))
        assert [n for n, _ in got] == ["meta", "delta", "delta", "error"]
        assert got[-1][1]["code"] == "provider_unavailable"
        assert second.count() == 0  # after the first delta there is no failover
        user = await user_of(app, "alice")
        assert await ledger_kinds(app, user.id) == ["chat", "chat", "refund"]
        convo = await (await app.test_client().get(f"/api/v1/conversations/{cnv}",
                                                    headers=await auth_headers(app, "alice"))).get_json()
        assert [m["content"] for m in convo["messages"]] == ["Remember me", started["message"]["content"]]
        first.mode = "ok"
        again = await (await post(app, body("Cut late", conversation_id=cnv))).get_json()
        assert again["cached"] is False and again["message"]["content"] == "one two three four five six"


@pytest.mark.parametrize("primary", ["gemini", "openai"])
async def test_a_json_answer_without_a_finish_reason_fails_over_and_is_not_cached(
        chat_app_factory, fake_gemini, fake_openai, primary):
    first, second = _fakes(primary, fake_gemini, fake_openai)
    first.mode = "cut"
    second.reply = "a whole answer"
    async with chat_app_factory(chat_providers=PRIMARIES[primary]) as app:
        data = await (await post(app, body("No finish reason"))).get_json()
        assert data["message"]["content"] == "a whole answer" and data["credits_charged"] == 1
        assert first.count() == 1 and second.count() == 1
        assert await ledger_kinds(app, (await user_of(app, "alice")).id) == ["chat"]


async def test_concurrent_cut_streams_are_each_refunded_exactly_once(chat_app_factory, fake_gemini):
    """Eight streams cut cleanly after their first deltas, at once: eight charges, eight refunds,
    and the spendable credits back where they started (real ledger in MongoDB, real Redis)."""
    import asyncio

    fake_gemini.reply, fake_gemini.mode, fake_gemini.cut_after = "one two three four", "cut", 1
    async with chat_app_factory(breaker_failure_threshold=100) as app:
        container = app.extensions["container"]
        user = await user_of(app, "alice")
        before = (await container.credits.service.summary(user.id, plan="free"))["spendable"]
        responses = await asyncio.gather(*(post(app, body(f"Cut stream {i}", stream=True)) for i in range(8)))
        for response in responses:
            got = events(await response.get_data(as_text=True))
            assert [n for n, _ in got] == ["meta", "delta", "error"]
        kinds = await ledger_kinds(app, user.id)
        assert kinds.count("chat") == 8 and kinds.count("refund") == 8
        assert (await container.credits.service.summary(user.id, plan="free"))["spendable"] == before
        fake_gemini.mode = "ok"
        again = await (await post(app, body("Cut stream 3"))).get_json()
        assert again["cached"] is False  # nothing truncated was cached
