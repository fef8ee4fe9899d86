"""The chat adapters drive the real SDKs against the wire fakes."""

from __future__ import annotations

import time

import pytest

from providers.gemini_chat import GeminiChatProvider
from providers.local_chat import LocalChatProvider
from providers.openai_chat import OpenAIChatProvider
from services.chat.openai_compat import estimate_tokens
from services.chat.ports import ChatMessage, LimitReached, ProviderError, ProviderTimeout, StreamUsage
from tests.fixtures.images import picture

MESSAGES = [
    ChatMessage("system", "You are terse."),
    ChatMessage("user", "Hi"),
    ChatMessage("assistant", "Hello! How can I help?"),
    ChatMessage("user", "Tell me a joke"),
]


@pytest.fixture
async def gemini(fake_gemini):
    provider = GeminiChatProvider(api_key=fake_gemini.api_key, model="gemini-2.5-flash",
                                  base_url=fake_gemini.url)
    yield provider
    await provider.aclose()


@pytest.fixture
async def openai_provider(fake_openai):
    provider = OpenAIChatProvider(api_key=fake_openai.api_key, model="gpt-4o-mini",
                                  base_url=fake_openai.url + "/v1")
    yield provider
    await provider.aclose()


async def test_gemini_sends_system_prompt_turns_and_request_id(gemini, fake_gemini):
    answer = await gemini.complete(MESSAGES, temperature=0.2, timeout=2, request_id="req-gm-1")
    assert (answer.content, answer.provider) == ("Hello from Gemini.", "gemini")
    assert answer.model == "gemini-2.5-flash"
    call = fake_gemini.calls[0]
    assert call.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert call.body["systemInstruction"]["parts"][0]["text"] == "You are terse."
    assert [c["role"] for c in call.body["contents"]] == ["user", "model", "user"]
    assert call.body["generationConfig"]["temperature"] == 0.2
    assert call.headers["X-Request-ID"] == "req-gm-1"


async def test_openai_sends_messages_temperature_and_request_id(openai_provider, fake_openai):
    answer = await openai_provider.complete(MESSAGES, temperature=0.3, timeout=2, request_id="req-oa-1")
    assert (answer.content, answer.provider) == ("Hello from OpenAI.", "openai")
    call = fake_openai.calls[0]
    assert call.body["messages"][0] == {"role": "system", "content": "You are terse."}
    assert call.body["temperature"] == 0.3
    assert call.headers["X-Request-ID"] == "req-oa-1"


@pytest.mark.parametrize("mode,status", [("429", 429), ("500", 500), ("503", 503)])
async def test_error_statuses_map_to_provider_errors_without_sdk_retries(
        gemini, openai_provider, fake_gemini, fake_openai, mode, status):
    fake_gemini.mode = fake_openai.mode = mode
    for provider in (gemini, openai_provider):
        with pytest.raises(ProviderError) as info:
            await provider.complete(MESSAGES, temperature=None, timeout=2, request_id=None)
        assert info.value.status == status and info.value.provider == provider.name
    assert fake_gemini.count() == 1 and fake_openai.count() == 1


async def test_hanging_provider_times_out_on_time(gemini, openai_provider, fake_gemini, fake_openai):
    fake_gemini.mode = fake_openai.mode = "hang"
    for provider in (gemini, openai_provider):
        started = time.perf_counter()
        with pytest.raises(ProviderTimeout):
            await provider.complete(MESSAGES, temperature=None, timeout=0.5, request_id=None)
        assert time.perf_counter() - started < 1.5


async def test_streams_yield_deltas_in_order(gemini, openai_provider, fake_gemini, fake_openai):
    fake_gemini.reply = fake_openai.reply = "one two three four five"
    fake_gemini.chunk_delay_s = fake_openai.chunk_delay_s = 0.01
    for provider, prompt in ((gemini, 13), (openai_provider, 5)):  # the fakes' prompt token counts
        deltas = [d async for d in provider.stream(MESSAGES, temperature=0.5, timeout=2, request_id="r")]
        # the tokens each API reported (Gemini: every chunk's usageMetadata; OpenAI: its last chunk)
        assert deltas == ["one ", "two ", "three ", "four ", "five", StreamUsage(prompt, 5)]
    assert fake_gemini.calls[0].path.endswith(":streamGenerateContent")
    assert fake_openai.calls[0].body["stream"] is True


async def test_dropped_stream_raises_after_the_first_deltas(
        gemini, openai_provider, fake_gemini, fake_openai):
    fake_gemini.reply = fake_openai.reply = "one two three four five six"
    fake_gemini.mode = fake_openai.mode = "drop"
    for provider in (gemini, openai_provider):
        received = []
        with pytest.raises(ProviderError):
            async for delta in provider.stream(MESSAGES, temperature=None, timeout=2, request_id=None):
                received.append(delta)
        assert received and len(received) < 6


@pytest.mark.parametrize("mode", ["drop", "cut"])
@pytest.mark.parametrize("cut_after", [0, 3])
async def test_a_stream_without_its_end_marker_is_a_provider_error(
        gemini, openai_provider, fake_gemini, fake_openai, mode, cut_after):
    """A reset (drop) or a clean close before finish_reason/finishReason (cut) is never a whole answer."""
    fake_gemini.reply = fake_openai.reply = "one two three four five six"
    fake_gemini.mode = fake_openai.mode = mode
    fake_gemini.cut_after = fake_openai.cut_after = cut_after
    for provider in (gemini, openai_provider):
        received = []
        with pytest.raises(ProviderError) as info:
            async for delta in provider.stream(MESSAGES, temperature=None, timeout=2, request_id=None):
                received.append(delta)
        assert received == ["one ", "two ", "three "][:cut_after], (provider.name, mode)
        assert info.value.provider == provider.name


async def test_a_whole_answer_without_a_finish_reason_is_a_provider_error(
        gemini, openai_provider, fake_gemini, fake_openai):
    fake_gemini.mode = fake_openai.mode = "cut"
    for provider in (gemini, openai_provider):
        with pytest.raises(ProviderError, match="truncated"):
            await provider.complete(MESSAGES, temperature=None, timeout=2, request_id=None)


async def test_vision_sends_the_image_inline(gemini, openai_provider, fake_gemini, fake_openai):
    png = picture("PNG")  # the wire fakes read image bytes as the APIs do: a real picture
    answer = await gemini.describe_image(png, mime="image/png", instruction="Describe", timeout=2,
                                         request_id=None)
    assert answer.content == "Hello from Gemini."
    parts = fake_gemini.calls[0].body["contents"][0]["parts"]
    inline = parts[0]["inlineData"]
    assert inline.get("mimeType", inline.get("mime_type")) == "image/png" and inline["data"]
    await openai_provider.describe_image(png, mime="image/png", instruction="Describe", timeout=2,
                                         request_id=None)
    content = fake_openai.calls[0].body["messages"][0]["content"]
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")


async def test_local_provider_is_deterministic_offline():
    local = LocalChatProvider()
    first = await local.complete(MESSAGES, temperature=0.7, timeout=1, request_id=None)
    again = await local.complete(MESSAGES, temperature=0.1, timeout=1, request_id=None)
    assert first == again and first.provider == "local" and "Tell me a joke" in first.content
    assert "".join([d async for d in local.stream(MESSAGES, temperature=None, timeout=1,
                                                  request_id=None)]) == first.content


async def test_local_provider_cuts_its_answer_at_max_tokens():
    local = LocalChatProvider()
    whole = await local.complete(MESSAGES, temperature=None, timeout=1, request_id=None, max_tokens=1000)
    assert whole.finish_reason == "stop"
    short = await local.complete(MESSAGES, temperature=None, timeout=1, request_id=None, max_tokens=4)
    assert short.finish_reason == "length" and whole.content.startswith(short.content)
    assert estimate_tokens(short.content) <= 4 < estimate_tokens(whole.content)
    deltas = [d async for d in local.stream(MESSAGES, temperature=None, timeout=1, request_id=None,
                                            max_tokens=4)]
    assert "".join(deltas) == short.content and isinstance(deltas[-1], LimitReached)
    assert not any(isinstance(d, LimitReached) for d in deltas[:-1])


async def test_a_length_stop_is_a_whole_answer_but_no_finish_reason_is_still_truncated(
        gemini, openai_provider, fake_gemini, fake_openai):
    fake_gemini.reply = fake_openai.reply = "one two three four"
    for provider in (gemini, openai_provider):
        answer = await provider.complete(MESSAGES, temperature=None, timeout=2, request_id=None, max_tokens=2)
        assert (answer.content, answer.finish_reason) == ("one two ", "length")
        deltas = [d async for d in provider.stream(MESSAGES, temperature=None, timeout=2, request_id=None,
                                                   max_tokens=2)]
        text = [d for d in deltas if not isinstance(d, StreamUsage)]
        assert "".join(text) == "one two " and isinstance(deltas[-1], LimitReached)
    assert fake_gemini.limits == [2, 2] and fake_openai.limits == [2, 2]
    fake_gemini.mode = fake_openai.mode = "cut"
    for provider in (gemini, openai_provider):
        with pytest.raises(ProviderError, match="truncated"):
            await provider.complete(MESSAGES, temperature=None, timeout=2, request_id=None, max_tokens=2)


async def test_openai_answers_not_in_the_apis_shape_are_provider_errors(openai_provider, fake_openai):
    fake_openai.mode = "garbled"
    with pytest.raises(ProviderError, match="empty answer"):
        await openai_provider.complete(MESSAGES, temperature=None, timeout=2, request_id=None)
    with pytest.raises(ProviderError, match="truncated"):
        [d async for d in openai_provider.stream(MESSAGES, temperature=None, timeout=2, request_id=None)]
