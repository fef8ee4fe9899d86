"""The official `openai` SDK as a client of a running Muse (contract §12), over real HTTP.

Muse runs under Hypercorn (tests/fixtures/openai_server.py) with the Gemini, OpenAI and
Replicate wire fakes as upstreams; the SDK talks to it exactly as it would to OpenAI.
"""

from __future__ import annotations

import base64
import io
import urllib.request
import uuid

import openai
import pytest
from PIL import Image

from tests.fixtures.identity import make_token
from tests.fixtures.images import picture

pytestmark = pytest.mark.usefixtures("sdk_fakes")


def sdk(muse_http, key: str, **options) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=muse_http.base_url + "/v1", **{"max_retries": 0, **options})


def ask(text: str | None = None) -> list[dict]:
    return [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": text or f"question {uuid.uuid4().hex}"}]


def new_user(muse_http) -> tuple[str, str]:
    return muse_http.user_key(f"user_{uuid.uuid4().hex[:10]}")


def test_the_sdk_lists_every_chat_and_image_model(muse_http):
    key, _ = new_user(muse_http)
    models = sdk(muse_http, key).models.list()
    ids = [m.id for m in models.data]
    assert {"default", "replicate"} <= set(ids) and len(ids) == len(set(ids))
    assert "pro" not in ids  # a premium model is not offered to a free user (tests/api/test_openai_models.py)
    assert all(m.object == "model" and m.owned_by == "muse" and m.created > 0 for m in models.data)


def test_a_completion_answers_with_usage_and_muse_headers(muse_http, sdk_fakes):
    key, user_id = new_user(muse_http)
    messages = ask()
    raw = sdk(muse_http, key).chat.completions.with_raw_response.create(
        model="default", messages=messages, temperature=0.2, max_tokens=50, user="end-user-1")
    completion = raw.parse()
    assert completion.object == "chat.completion" and completion.id.startswith("chatcmpl-")
    assert completion.model == "default"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "Hello from Gemini."
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage  # as Gemini's usageMetadata said (the fake: a token a word)
    words = sum(len(m["content"].split()) for m in messages)
    assert (usage.prompt_tokens, usage.completion_tokens) == (words, 3)
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert raw.headers["X-Muse-Credits-Charged"] == "1" and raw.headers["X-Muse-Cached"] == "false"
    assert raw.headers["X-Muse-Provider"] == "gemini" and raw.headers["X-Request-ID"]
    assert sdk_fakes["gemini"].count("generateContent") == 1
    conversations, _ = muse_http.call(
        lambda c: c.chat.conversations.list_conversations(user_id, limit=5, cursor=None))
    assert conversations == []  # nothing is stored as a conversation


def test_a_stream_is_read_with_the_sdk_iterator_and_ends_with_usage(muse_http, sdk_fakes):
    key, user_id = new_user(muse_http)
    sdk_fakes["gemini"].reply = "One two three four five."
    stream = sdk(muse_http, key).chat.completions.create(
        model="default", messages=ask(), stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "One two three four five."
    assert {c.id for c in chunks} == {chunks[0].id} and chunks[0].object == "chat.completion.chunk"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens > 0 and last.usage.total_tokens == (
        last.usage.prompt_tokens + last.usage.completion_tokens)
    assert all(c.usage is None for c in chunks[:-1])
    listed = muse_http.call(lambda c: c.chat.conversations.list_conversations(user_id, limit=5, cursor=None))
    assert listed[0] == []


def test_a_stream_without_include_usage_has_no_usage_chunk(muse_http):
    key, _ = new_user(muse_http)
    chunks = list(sdk(muse_http, key).chat.completions.create(model="default", messages=ask(), stream=True))
    assert chunks and all(c.choices for c in chunks)


def test_a_cached_second_call_costs_nothing(muse_http, sdk_fakes):
    key, user_id = new_user(muse_http)
    client = sdk(muse_http, key)
    messages = ask()
    first = client.chat.completions.with_raw_response.create(model="default", messages=messages)
    second = client.chat.completions.with_raw_response.create(model="default", messages=messages)
    assert first.headers["X-Muse-Credits-Charged"] == "1" and first.headers["X-Muse-Cached"] == "false"
    assert second.headers["X-Muse-Credits-Charged"] == "0" and second.headers["X-Muse-Cached"] == "true"
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert sdk_fakes["gemini"].count("generateContent") == 1
    summary = muse_http.call(lambda c: c.credits.service.summary(user_id, plan="free"))
    assert summary["allowance"]["used"] == 1
    # A stream of the same question is a cache hit too.
    stream = client.chat.completions.with_raw_response.create(model="default", messages=messages, stream=True)
    assert stream.headers["X-Muse-Cached"] == "true" and stream.headers["X-Muse-Credits-Charged"] == "0"
    assert "".join(c.choices[0].delta.content or "" for c in stream.parse()) == "Hello from Gemini."


def test_a_bad_key_raises_authentication_error(muse_http):
    with pytest.raises(openai.AuthenticationError) as caught:
        sdk(muse_http, "mk_live_not_a_real_key").chat.completions.create(model="default", messages=ask())
    assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
    assert caught.value.body["type"] == "invalid_request_error"


def test_a_session_token_works_as_the_api_key(muse_http):
    token = make_token(f"user_{uuid.uuid4().hex[:10]}")
    completion = sdk(muse_http, token).chat.completions.create(model="default", messages=ask())
    assert completion.choices[0].message.content == "Hello from Gemini."


def test_an_unknown_model_is_not_found(muse_http):
    key, _ = new_user(muse_http)
    with pytest.raises(openai.NotFoundError) as caught:
        sdk(muse_http, key).chat.completions.create(model="gpt-nope", messages=ask())
    assert caught.value.code == "model_not_found" and caught.value.param == "model"


def test_failover_before_the_first_chunk_is_invisible_to_the_sdk(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    client = sdk(muse_http, key)
    sdk_fakes["gemini"].mode = "500"
    raw = client.chat.completions.with_raw_response.create(model="default", messages=ask())
    assert raw.parse().choices[0].message.content == "Hello from OpenAI."
    assert raw.parse().usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}) == {
        "prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}  # as the OpenAI upstream reported
    assert raw.headers["X-Muse-Provider"] == "openai" and raw.headers["X-Muse-Credits-Charged"] == "1"
    stream = client.chat.completions.create(model="default", messages=ask(), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "Hello from OpenAI."
    assert sdk_fakes["gemini"].count() == 2 and sdk_fakes["openai"].count() == 2


def test_a_stream_broken_mid_answer_raises_in_the_sdk_iterator(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    sdk_fakes["gemini"].reply = "one two three four five six seven eight"
    sdk_fakes["gemini"].mode = "drop"
    sdk_fakes["openai"].mode = "500"
    stream = sdk(muse_http, key).chat.completions.create(model="default", messages=ask(), stream=True)
    received = []
    with pytest.raises(openai.APIError):
        for chunk in stream:
            received.append(chunk)
    assert received  # part of the answer arrived before the provider broke


def test_max_tokens_reaches_gemini_and_the_short_answer_says_length(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    client = sdk(muse_http, key)
    sdk_fakes["gemini"].reply = "one two three four five six"
    messages = ask()
    short = client.chat.completions.create(model="default", messages=messages, max_tokens=2)
    assert sdk_fakes["gemini"].limits == [2]  # as generationConfig.maxOutputTokens
    assert short.choices[0].message.content == "one two "
    assert short.choices[0].finish_reason == "length"  # a whole (short) answer, charged like any other
    whole = client.chat.completions.with_raw_response.create(model="default", messages=messages)
    assert whole.headers["X-Muse-Cached"] == "false"  # the short answer is not served for a longer request
    assert whole.parse().choices[0].message.content == "one two three four five six"
    assert whole.parse().choices[0].finish_reason == "stop"
    again = client.chat.completions.with_raw_response.create(model="default", messages=messages,
                                                             max_completion_tokens=2)
    assert again.headers["X-Muse-Cached"] == "true" and again.headers["X-Muse-Credits-Charged"] == "0"
    assert again.parse().choices[0].message.content == "one two "
    assert again.parse().choices[0].finish_reason == "length"
    longer = client.chat.completions.with_raw_response.create(model="default", messages=messages,
                                                              max_tokens=3)
    assert longer.headers["X-Muse-Cached"] == "false" and longer.parse().choices[0].message.content == (
        "one two three ")
    assert sdk_fakes["gemini"].limits == [2, None, 3]


def test_max_completion_tokens_reaches_openai_after_failover(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    client = sdk(muse_http, key)
    sdk_fakes["gemini"].mode = "500"
    sdk_fakes["openai"].reply = "alpha beta gamma delta"
    raw = client.chat.completions.with_raw_response.create(model="default", messages=ask(),
                                                           max_completion_tokens=3)
    assert raw.headers["X-Muse-Provider"] == "openai"
    assert sdk_fakes["gemini"].limits == [3] and sdk_fakes["openai"].limits == [3]
    completion = raw.parse()
    assert completion.choices[0].message.content == "alpha beta gamma "
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 3  # as the upstream reported
    stream = client.chat.completions.create(model="default", messages=ask(), max_tokens=2, stream=True)
    chunks = [c for c in stream if c.choices]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "alpha beta "
    assert chunks[-1].choices[0].finish_reason == "length"
    assert sdk_fakes["openai"].limits == [3, 2]


def test_a_stream_stopped_at_max_tokens_ends_with_length_also_when_cached(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    client = sdk(muse_http, key)
    sdk_fakes["gemini"].reply = "one two three four five six"
    messages = ask()

    def read(**options) -> tuple[str, list[str | None]]:
        chunks = [c for c in client.chat.completions.create(model="default", messages=messages, stream=True,
                                                             **options) if c.choices]
        return ("".join(c.choices[0].delta.content or "" for c in chunks),
                [c.choices[0].finish_reason for c in chunks])

    text, finishes = read(max_tokens=4)
    assert text == "one two three four " and finishes[-1] == "length" and set(finishes[:-1]) == {None}
    assert read(max_tokens=4) == (text, finishes)  # replayed from the cache, still "length"
    assert sdk_fakes["gemini"].count("streamGenerateContent") == 1
    whole, finishes = read()
    assert whole == "one two three four five six" and finishes[-1] == "stop"
    assert sdk_fakes["gemini"].limits == [4, None]


def test_images_generate_with_url_and_b64_json(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    client = sdk(muse_http, key)
    raw = client.images.with_raw_response.generate(prompt="a red fox in snow", size="1792x1024", n=2)
    result = raw.parse()
    assert len(result.data) == 2 and result.created > 0
    assert raw.headers["X-Muse-Credits-Charged"] == "2" and raw.headers["X-Muse-Provider"] == "replicate"
    with urllib.request.urlopen(result.data[0].url, timeout=10) as response:
        assert Image.open(io.BytesIO(response.read())).size == (1344, 768)  # 16:9, the nearest ratio
    encoded = client.images.generate(prompt="a blue whale", response_format="b64_json", model="default")
    image = Image.open(io.BytesIO(base64.b64decode(encoded.data[0].b64_json)))
    assert image.size == (1024, 1024) and encoded.data[0].url is None
    assert sdk_fakes["replicate"].inputs[-1]["prompt"] == "a blue whale"


def test_an_image_edit_is_a_multipart_upload(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    result = sdk(muse_http, key).images.edit(image=("cat.png", picture("PNG", (96, 64)), "image/png"),
                                             prompt="give the cat a hat", response_format="b64_json")
    assert len(result.data) == 1 and Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))


def test_idempotency_key_replays_the_first_answer(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    client = sdk(muse_http, key)
    headers = {"Idempotency-Key": f"idem-{uuid.uuid4().hex}"}
    messages = ask()
    first = client.chat.completions.with_raw_response.create(model="default", messages=messages,
                                                             extra_headers=headers)
    again = client.chat.completions.with_raw_response.create(model="default", messages=messages,
                                                             extra_headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true" and again.parse().id == first.parse().id
    assert sdk_fakes["gemini"].count("generateContent") == 1
    with pytest.raises(openai.BadRequestError) as caught:  # same key, another body: 400 under /v1, never 422
        client.chat.completions.create(model="default", messages=ask(), extra_headers=headers)
    assert caught.value.code == "idempotency_mismatch" and caught.value.type == "invalid_request_error"
