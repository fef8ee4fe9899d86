"""The field walk (contract §18): every field of the openai SDK's own chat request type is either honoured
(a request with it is answered, by a provider that received it) or refused by name (400, `param`).

A field the SDK adds later is neither in the registry nor here, and fails this test until it is
classified, so no field can be accepted and dropped silently.
"""

from __future__ import annotations

import uuid

from openai.types.chat.completion_create_params import CompletionCreateParamsBase

from controllers.chat_fields import OPENAI_FIELDS
from tests.fixtures.identity import auth_headers

TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}

# A value each honoured field is sent with (model and messages are in every request).
HONOURED_SAMPLES = {
    "temperature": 0.5, "top_p": 0.9, "stop": ["END"], "seed": 11, "presence_penalty": 0.1,
    "frequency_penalty": 0.1, "max_tokens": 40, "max_completion_tokens": 40, "logit_bias": {"42": 1},
    "reasoning_effort": "low", "verbosity": "low", "user": "u-1", "safety_identifier": "s-1",
    "tools": [TOOL], "tool_choice": "auto", "parallel_tool_calls": True,
    "response_format": {"type": "json_object"}, "stream": False, "stream_options": {"include_usage": True},
    # limited fields: their honoured value
    "logprobs": True, "top_logprobs": 2, "n": 1, "modalities": ["text"], "store": False,
}
# A value each refused (or limited) field is refused with.
REFUSED_SAMPLES = {
    "n": 5, "modalities": ["audio"], "store": True,
    "audio": {"voice": "alloy", "format": "wav"}, "prediction": {"type": "content", "content": "x"},
    "web_search_options": {"search_context_size": "low"}, "functions": [{"name": "f"}],
    "function_call": "none", "metadata": {"a": "b"}, "service_tier": "priority",
    "prompt_cache_key": "k", "prompt_cache_retention": "24h", "prompt_cache_options": {},
    "moderation": {},
}
# Fields a field needs beside it (OpenAI refuses tool_choice without tools too).
COMPANIONS = {"tool_choice": {"tools": [TOOL]}, "parallel_tool_calls": {"tools": [TOOL]},
              "stream_options": {"stream": True}, "top_logprobs": {"logprobs": True}}
# Where a honoured field shows in what the provider received (OpenAI's body, by name).
SENT_AS = {"max_tokens": "max_completion_tokens", "stream": None, "stream_options": None, "n": None,
           "modalities": None, "store": None}


def sdk_fields() -> list[str]:
    return [name for name in CompletionCreateParamsBase.__annotations__ if name not in ("model", "messages")]


def test_every_field_of_the_sdk_request_type_is_classified():
    unclassified = [name for name in sdk_fields() if name not in OPENAI_FIELDS]
    assert unclassified == [], f"classify these in controllers/chat_fields.py: {unclassified}"
    missing = [name for name, (status, _) in OPENAI_FIELDS.items() if name not in ("model", "messages")
               and ((status != "refused" and name not in HONOURED_SAMPLES)
                    or (status != "honoured" and name not in REFUSED_SAMPLES))]
    assert missing == [], f"give these a sample value in this test: {missing}"


async def test_every_honoured_field_reaches_the_provider(chat_app_factory, fake_openai):
    # OpenAI first: it honours every option, so each field must show in the body it received
    async with chat_app_factory(chat_providers=["openai", "gemini"]) as app:
        auth = await auth_headers(app, "walker")
        for name in sdk_fields():
            if OPENAI_FIELDS[name][0] == "refused":
                continue
            value = HONOURED_SAMPLES[name]
            body = {"model": "default", "messages": [{"role": "user", "content": f"w {uuid.uuid4().hex}"}],
                    name: value, **COMPANIONS.get(name, {})}
            response = await app.test_client().post("/v1/chat/completions", json=body, headers=auth)
            assert response.status_code == 200, (name, await response.get_data(as_text=True))
            await response.get_data()
            sent_name = SENT_AS.get(name, name)
            if sent_name is None:
                continue
            sent = fake_openai.calls[-1].body
            assert sent_name in sent, f"{name} did not reach the provider: {sorted(sent)}"
            if name == "tools":
                assert sent["tools"] == [TOOL]
            elif name != "tool_choice":
                assert sent[sent_name] == value, name


async def test_every_refused_field_is_400_naming_it(chat_app, fake_gemini, fake_openai):
    auth = await auth_headers(chat_app, "walker")
    for name in sdk_fields():
        if OPENAI_FIELDS[name][0] == "honoured":
            continue
        body = {"model": "default", "messages": [{"role": "user", "content": "refuse me"}],
                name: REFUSED_SAMPLES[name]}
        response = await chat_app.test_client().post("/v1/chat/completions", json=body, headers=auth)
        data = await response.get_json()
        assert response.status_code == 400, (name, data)
        assert data["error"]["param"] == name and data["error"]["code"] == "invalid_request_error", data
        assert "not supported" in data["error"]["message"]
    assert fake_gemini.count() == fake_openai.count() == 0


async def test_openapi_lists_the_honoured_and_refused_fields(chat_app):
    document = await (await chat_app.test_client().get("/openapi.json")).get_json()

    def request_schema(path: str) -> dict:
        schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return schema

    listed = request_schema("/v1/chat/completions")["x-muse-fields"]
    assert {name: entry["status"] for name, entry in listed.items()} == {
        name: status for name, (status, _) in OPENAI_FIELDS.items()}
    assert listed["logit_bias"]["status"] == "honoured" and listed["audio"]["status"] == "refused"
    assert "logit_bias" in request_schema("/api/v1/chat")["x-muse-fields"]


def test_the_readme_table_says_what_the_registry_says():
    import pathlib

    readme = (pathlib.Path(__file__).parents[2] / "README.md").read_text()
    for name, (status, _) in OPENAI_FIELDS.items():
        assert f"| `{name}` | {status} |" in readme, name
