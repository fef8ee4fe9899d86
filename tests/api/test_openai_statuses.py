"""OpenAI's own statuses under /v1, as the official SDK experiences them (contract §12, issue 26).

A real Muse over HTTP (tests/fixtures/openai_server.py) and the `openai` SDK with its default retry
budget (2 retries): the server counts what reached it, so a retry storm cannot hide.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import openai
import pytest

pytestmark = pytest.mark.usefixtures("sdk_fakes")

CHAT = "/v1/chat/completions"


def sdk(muse_http, key: str) -> openai.OpenAI:
    """The SDK as a user would build it: default retries (2) and backoff."""
    client = openai.OpenAI(api_key=key, base_url=muse_http.base_url + "/v1")
    assert client.max_retries == 2
    return client


def ask() -> list[dict]:
    return [{"role": "user", "content": f"question {uuid.uuid4().hex}"}]


def drained_user(muse_http) -> tuple[str, str]:
    """A user with nothing left to spend (and their API key)."""
    key, user_id = muse_http.user_key(f"user_{uuid.uuid4().hex[:10]}")

    async def drain(container) -> None:
        spendable = (await container.credits.service.summary(user_id, plan="free"))["spendable"]
        if spendable:
            await container.credits.service.charge(user_id, spendable, plan="free", kind="chat",
                                           ref=f"drain-{uuid.uuid4().hex}", request_id=None)

    muse_http.call(drain)
    return key, user_id


def test_out_of_credits_is_insufficient_quota_raised_at_once(muse_http, sdk_fakes):
    key, _ = drained_user(muse_http)
    client = sdk(muse_http, key)
    before = muse_http.requests(CHAT)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="default", messages=ask())
    error = caught.value
    assert error.status_code == 429 and error.code == error.type == "insufficient_quota"
    assert error.response.headers["x-should-retry"] == "false" and error.request_id
    assert muse_http.requests(CHAT) - before == 1  # one request with the SDK's default retries on
    with pytest.raises(openai.RateLimitError) as caught:  # a stream is refused before it starts
        client.chat.completions.create(model="default", messages=ask(), stream=True)
    assert caught.value.code == "insufficient_quota" and muse_http.requests(CHAT) - before == 2
    images_before = muse_http.requests("/v1/images/generations")
    with pytest.raises(openai.RateLimitError) as caught:
        client.images.generate(prompt="a red fox in snow")
    assert caught.value.code == "insufficient_quota"
    assert muse_http.requests("/v1/images/generations") - images_before == 1
    assert sdk_fakes["gemini"].count() == 0 and sdk_fakes["openai"].count() == 0


def test_api_v1_keeps_402_for_the_same_user(muse_http):
    key, _ = drained_user(muse_http)
    request = urllib.request.Request(muse_http.base_url + "/api/v1/chat", method="POST",
                                     data=json.dumps({"messages": ask()}).encode(),
                                     headers={"Authorization": f"Bearer {key}",
                                              "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 402 and "x-should-retry" not in caught.value.headers
    assert json.loads(caught.value.read())["code"] == "insufficient_credits"


def test_a_switched_off_feature_is_sent_once(muse_http, sdk_fakes):
    key, _ = muse_http.user_key(f"user_{uuid.uuid4().hex[:10]}")

    def switch(enabled: bool) -> None:
        muse_http.call(lambda c: c.platform.live_settings.update(
            {"chat_enabled": enabled}, admin_id="usr_admin", request_id=None))

    switch(False)
    try:
        before = muse_http.requests(CHAT)
        with pytest.raises(openai.InternalServerError) as caught:
            sdk(muse_http, key).chat.completions.create(model="default", messages=ask())
    finally:
        switch(True)
    error = caught.value
    assert error.status_code == 503 and error.code == "feature_disabled"
    assert error.response.headers["x-should-retry"] == "false" and "retry-after" not in error.response.headers
    assert muse_http.requests(CHAT) - before == 1
    assert sdk_fakes["gemini"].count() == 0


def test_a_bad_parameter_is_bad_request_naming_it(muse_http):
    key, _ = muse_http.user_key(f"user_{uuid.uuid4().hex[:10]}")
    client = sdk(muse_http, key)
    before = muse_http.requests(CHAT)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="default", messages=ask(), temperature=5)
    assert caught.value.status_code == 400 and caught.value.param == "temperature"
    assert caught.value.code == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as caught:  # a field no endpoint takes
        client.chat.completions.create(model="default", messages=ask(), extra_body={"muse_unknown": 1})
    assert caught.value.param == "muse_unknown" and "muse_unknown" in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(prompt="a fox", size="huge")
    assert caught.value.param == "size"
    assert muse_http.requests(CHAT) - before == 2


def test_a_replay_carries_the_first_answers_muse_headers(muse_http, sdk_fakes):
    key, _ = muse_http.user_key(f"user_{uuid.uuid4().hex[:10]}")
    client = sdk(muse_http, key)
    for stream in (False, True):
        headers = {"Idempotency-Key": f"idem-{uuid.uuid4().hex}"}
        messages = ask()
        first = client.chat.completions.with_raw_response.create(
            model="default", messages=messages, stream=stream, extra_headers=headers)
        first_text = first.text if not stream else "".join(
            chunk.choices[0].delta.content or "" for chunk in first.parse() if chunk.choices)
        again = client.chat.completions.with_raw_response.create(
            model="default", messages=messages, stream=stream, extra_headers=headers)
        assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
        for name in ("X-Muse-Credits-Charged", "X-Muse-Cached", "X-Muse-Provider"):
            assert again.headers[name] == first.headers[name], (stream, name)
        assert first.headers["X-Muse-Credits-Charged"] == "1" and first.headers["X-Muse-Provider"] == "gemini"
        if stream:
            assert "".join(c.choices[0].delta.content or "" for c in again.parse() if c.choices) == first_text
    assert sdk_fakes["gemini"].count("generateContent") + sdk_fakes["gemini"].count(
        "streamGenerateContent") == 2  # each question answered once, each replay free
