"""Sampling parameters (contract §18): each reaches the provider that answers, is in the cache key, or is
refused by name. Over HTTP against the Gemini/OpenAI wire fakes, which record what they received."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures.identity import auth_headers


def ask(text: str | None = None, **extra) -> dict:
    return {"model": "default", "messages": [{"role": "user", "content": text or f"q {uuid.uuid4().hex}"}],
            **extra}


async def completion(app, payload: dict, *, clerk_id: str = "sam"):
    auth = await auth_headers(app, clerk_id)
    response = await app.test_client().post("/v1/chat/completions", json=payload, headers=auth)
    return response, await response.get_json()


@pytest.mark.parametrize("field, first, second", [
    ("stop", ["END"], ["STOP"]),
    ("seed", 1, 2),
    ("top_p", 0.5, 0.9),
    ("presence_penalty", 0.1, 0.2),
    ("frequency_penalty", 0.1, 0.2),
    ("reasoning_effort", "low", "high"),
])
async def test_requests_differing_only_in_one_sampling_field_are_two_cache_entries(
        chat_app, fake_gemini, field, first, second):
    text = f"same question {uuid.uuid4().hex}"
    one, body_one = await completion(chat_app, ask(text, **{field: first}))
    again, body_again = await completion(chat_app, ask(text, **{field: first}))
    other, body_other = await completion(chat_app, ask(text, **{field: second}))
    assert one.status_code == again.status_code == other.status_code == 200, (body_one, body_other)
    assert one.headers["X-Muse-Cached"] == "false" and again.headers["X-Muse-Cached"] == "true"
    assert other.headers["X-Muse-Cached"] == "false"  # another answer, not the cached one
    assert other.headers["X-Muse-Credits-Charged"] == "1"
    assert fake_gemini.count() == 2


async def test_every_sampling_field_reaches_gemini_generation_config(chat_app, fake_gemini):
    response, data = await completion(chat_app, ask(
        temperature=0.3, top_p=0.8, stop=["END", "STOP"], seed=7, presence_penalty=0.5,
        frequency_penalty=-0.5, max_completion_tokens=50, reasoning_effort="low", user="end-user-9"))
    assert response.status_code == 200, data
    config = fake_gemini.calls[-1].body["generationConfig"]
    assert config["temperature"] == 0.3 and config["topP"] == 0.8
    assert config["stopSequences"] == ["END", "STOP"] and config["seed"] == 7
    assert config["presencePenalty"] == 0.5 and config["frequencyPenalty"] == -0.5
    assert config["maxOutputTokens"] == 50
    # google-genai 3.4 sends this one field in proto's snake_case form, which the API also reads
    assert list(config["thinkingConfig"].values()) == ["LOW"]


async def test_every_sampling_field_reaches_openai(chat_app_factory, fake_gemini, fake_openai):
    async with chat_app_factory(chat_providers=["openai", "gemini"]) as app:
        response, data = await completion(app, ask(
            temperature=0.3, top_p=0.8, stop="END", seed=7, presence_penalty=0.5, frequency_penalty=-0.5,
            max_tokens=50, reasoning_effort="minimal", verbosity="low", user="end-user-9",
            safety_identifier="hash-1", logit_bias={"50256": -100}))
    assert response.status_code == 200, data
    sent = fake_openai.calls[-1].body
    assert {k: sent[k] for k in ("temperature", "top_p", "stop", "seed", "presence_penalty",
                                 "frequency_penalty", "max_completion_tokens", "reasoning_effort",
                                 "verbosity", "user", "safety_identifier", "logit_bias")} == {
        "temperature": 0.3, "top_p": 0.8, "stop": ["END"], "seed": 7, "presence_penalty": 0.5,
        "frequency_penalty": -0.5, "max_completion_tokens": 50, "reasoning_effort": "minimal",
        "verbosity": "low", "user": "end-user-9", "safety_identifier": "hash-1",
        "logit_bias": {"50256": -100}}
    assert fake_gemini.count() == 0


async def test_logit_bias_goes_to_openai_when_gemini_comes_first(chat_app, fake_gemini, fake_openai):
    response, data = await completion(chat_app, ask(logit_bias={"1234": 5}))
    assert response.status_code == 200, data
    assert response.headers["X-Muse-Provider"] == "openai"
    assert fake_gemini.count() == 0 and fake_openai.calls[-1].body["logit_bias"] == {"1234": 5}


async def test_logit_bias_without_a_provider_that_honours_it_is_refused_by_name(
        chat_app_factory, fake_gemini):
    async with chat_app_factory(chat_providers=["gemini"]) as app:
        response, data = await completion(app, ask(logit_bias={"1234": 5}))
        auth = await auth_headers(app, "sam")
        muse = await app.test_client().post("/api/v1/chat", headers=auth, json={
            "messages": [{"role": "user", "content": "hi"}], "logit_bias": {"1234": 5}})
        problem = await muse.get_json()
    assert response.status_code in (400, 422) and data["error"]["param"] == "logit_bias", data
    assert "logit_bias" in data["error"]["message"]
    assert muse.status_code == 422 and problem["errors"][0]["loc"] == ["body", "logit_bias"]
    assert fake_gemini.count() == 0


@pytest.mark.parametrize("field, value", [
    ("n", 5), ("audio", {"voice": "alloy", "format": "mp3"}),
    ("modalities", ["text", "audio"]), ("prediction", {"type": "content", "content": "x"}),
    ("web_search_options", {}), ("functions", [{"name": "f"}]), ("function_call", "auto"),
    ("service_tier", "flex"), ("store", True), ("metadata", {"k": "v"}),
])
async def test_refused_fields_are_400_naming_the_field_and_charge_nothing(chat_app, fake_gemini, field,
                                                                          value):
    response, data = await completion(chat_app, ask(**{field: value}))
    assert response.status_code == 400, data
    assert data["error"]["param"] == field and data["error"]["type"] == "invalid_request_error"
    assert field in data["error"]["message"] and "not supported" in data["error"]["message"]
    assert fake_gemini.count() == 0


async def test_more_than_four_stop_sequences_are_refused(chat_app, fake_gemini):
    response, data = await completion(chat_app, ask(stop=["a", "b", "c", "d", "e"]))
    assert response.status_code in (400, 422) and data["error"]["param"].startswith("stop"), data
    assert fake_gemini.count() == 0


async def test_api_v1_chat_sends_sampling_fields_to_the_provider(chat_app, fake_gemini):
    auth = await auth_headers(chat_app, "sam")
    response = await chat_app.test_client().post("/api/v1/chat", headers=auth, json={
        "messages": [{"role": "user", "content": "sampled"}], "top_p": 0.4, "stop": ["X"], "seed": 3,
        "max_tokens": 20})
    assert response.status_code == 200, await response.get_json()
    config = fake_gemini.calls[-1].body["generationConfig"]
    assert (config["topP"], config["stopSequences"], config["seed"], config["maxOutputTokens"]) == (
        0.4, ["X"], 3, 20)


async def test_n_choices_are_each_charged_and_asked_of_the_provider(chat_app, fake_gemini):
    from tests.api.test_chat_api import ledger_kinds, user_of

    response, data = await completion(chat_app, ask(n=3), clerk_id="chooser")
    assert response.status_code == 200, data
    assert [c["index"] for c in data["choices"]] == [0, 1, 2]
    assert {c["message"]["content"] for c in data["choices"]} == {"Hello from Gemini."}
    assert response.headers["X-Muse-Credits-Charged"] == "3" and fake_gemini.count() == 3
    user = await user_of(chat_app, "chooser")
    ops, _ = await chat_app.extensions["container"].credits.service.ledger(user.id, limit=10)
    assert sum(-op.delta for op in ops if op.kind == "charge") == 3
    assert await ledger_kinds(chat_app, user.id) == ["chat"]


async def test_n_choices_are_refunded_whole_when_one_cannot_be_had(chat_app, fake_gemini, fake_openai):
    fake_gemini.script.extend(["ok", "503"])  # the second choice fails over ...
    fake_openai.mode = "500"  # ... and finds no provider
    response, data = await completion(chat_app, ask(n=2), clerk_id="unlucky")
    assert response.status_code == 502, data
    from tests.api.test_chat_api import ledger_kinds, user_of

    user = await user_of(chat_app, "unlucky")
    assert await ledger_kinds(chat_app, user.id) == ["chat", "refund"]


async def test_n_above_one_is_refused_when_streaming(chat_app, fake_gemini):
    response, data = await completion(chat_app, ask(n=2, stream=True))
    assert response.status_code == 400 and data["error"]["param"] == "n", data
    assert fake_gemini.count() == 0


async def test_logprobs_go_to_openai_and_come_back_in_the_choice(chat_app, fake_gemini, fake_openai):
    payload = ask(logprobs=True, top_logprobs=1)
    response, data = await completion(chat_app, payload)
    assert response.status_code == 200, data
    assert response.headers["X-Muse-Provider"] == "openai" and fake_gemini.count() == 0
    sent = fake_openai.calls[-1].body
    assert (sent["logprobs"], sent["top_logprobs"]) == (True, 1)
    content = data["choices"][0]["logprobs"]["content"]
    assert "".join(token["token"] for token in content) == "Hello from OpenAI."
    assert len(content[0]["top_logprobs"]) == 1
    again, cached = await completion(chat_app, payload)
    assert again.headers["X-Muse-Cached"] == "true"
    assert cached["choices"][0]["logprobs"] == data["choices"][0]["logprobs"]
    plain, without = await completion(chat_app, {**payload, "logprobs": False, "top_logprobs": None})
    assert plain.headers["X-Muse-Cached"] == "false" and without["choices"][0]["logprobs"] is None


async def test_logprobs_are_refused_when_streaming_or_without_a_provider_that_gives_them(
        chat_app, chat_app_factory, fake_gemini, fake_openai):
    response, data = await completion(chat_app, ask(logprobs=True, stream=True))
    assert response.status_code == 400 and data["error"]["param"] == "logprobs", data
    response, data = await completion(chat_app, ask(top_logprobs=2))
    assert response.status_code == 400 and data["error"]["param"] == "top_logprobs", data
    async with chat_app_factory(chat_providers=["gemini"]) as app:
        response, data = await completion(app, ask(logprobs=True))
    assert response.status_code in (400, 422) and data["error"]["param"] == "logprobs", data
    assert fake_gemini.count() == fake_openai.count() == 0
