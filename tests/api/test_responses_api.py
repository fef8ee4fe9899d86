"""OpenAI's Responses API (contract §12) with the official `openai` SDK against a running Muse over HTTP.

Gemini answers first (the wire fakes record what reached them); the same chat path as
/v1/chat/completions charges, caches and fails over.
"""

from __future__ import annotations

import json
import typing
import uuid

import openai
import pytest
from openai.types.responses.response_create_params import ResponseCreateParamsBase

from controllers.responses_request import RESPONSE_FIELDS
from controllers.schemas.responses import ResponseCreateIn

pytestmark = pytest.mark.usefixtures("sdk_fakes")

WEATHER = {"type": "function", "name": "get_weather", "description": "The weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"], "additionalProperties": False}, "strict": True}


def client(muse_http, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=muse_http.base_url + "/v1", max_retries=0)


def new_user(muse_http) -> tuple[str, str]:
    return muse_http.user_key(f"resp_{uuid.uuid4().hex[:10]}")


def question() -> str:
    return f"What is new? {uuid.uuid4().hex}"


def test_every_field_of_the_sdks_request_is_honoured_or_refused():
    fields = set(typing.get_type_hints(ResponseCreateParamsBase)) | {"stream"}
    assert fields - set(RESPONSE_FIELDS) == set(), "classify these fields in RESPONSE_FIELDS"
    assert fields - set(ResponseCreateIn.model_fields) == set(), "declare these fields in ResponseCreateIn"


def test_a_response_is_answered_stored_retrieved_and_deleted(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    sdk = client(muse_http, key)
    raw = sdk.responses.with_raw_response.create(model="default", input=question(), instructions="Be brief.",
                                                 metadata={"ticket": "42"})
    response = raw.parse()
    assert response.id.startswith("resp_") and response.object == "response"
    assert response.status == "completed" and response.output_text == "Hello from Gemini."
    [message] = response.output
    assert message.type == "message" and message.role == "assistant"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.metadata == {"ticket": "42"}
    assert raw.headers["X-Muse-Provider"] == "gemini" and raw.headers["X-Muse-Credits-Charged"] == "1"
    sent = sdk_fakes["gemini"].calls[-1].body
    assert "Be brief." in json.dumps(sent["systemInstruction"])

    again = sdk.responses.retrieve(response.id)
    assert again.id == response.id and again.output_text == "Hello from Gemini."
    deleted = sdk.responses.delete(response.id)
    assert deleted is None or getattr(deleted, "deleted", True)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(response.id)


def test_previous_response_id_continues_the_callers_own_response_only(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    sdk = client(muse_http, key)
    first_question = question()
    first = sdk.responses.create(model="default", input=first_question, instructions="Answer in French.")
    second = sdk.responses.create(model="default", input="And then?", previous_response_id=first.id)
    assert second.previous_response_id == first.id and second.output_text == "Hello from Gemini."
    contents = sdk_fakes["gemini"].calls[-1].body["contents"]
    texts = [(turn["role"], turn["parts"][0]["text"]) for turn in contents]
    assert texts == [("user", first_question), ("model", "Hello from Gemini."), ("user", "And then?")]
    assert "systemInstruction" not in sdk_fakes["gemini"].calls[-1].body  # instructions are not carried over

    other_key, _ = new_user(muse_http)
    with pytest.raises(openai.NotFoundError) as refused:
        client(muse_http, other_key).responses.create(model="default", input="x",
                                                      previous_response_id=first.id)
    assert refused.value.body["param"] == "previous_response_id"
    with pytest.raises(openai.NotFoundError):
        client(muse_http, other_key).responses.retrieve(first.id)


def test_store_false_keeps_nothing(muse_http):
    key, _ = new_user(muse_http)
    sdk = client(muse_http, key)
    response = sdk.responses.create(model="default", input=question(), store=False)
    assert response.output_text == "Hello from Gemini." and response.store is False
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(response.id)


def test_a_stream_sends_openais_typed_events(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    sdk_fakes["gemini"].reply = "One two three four five."
    sdk = client(muse_http, key)
    with sdk.responses.stream(model="default", input=question()) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed" and "response.output_text.delta" in kinds
    assert kinds.index("response.output_item.added") < kinds.index("response.output_text.delta")
    assert final.output_text == "One two three four five." and final.status == "completed"
    assert sdk.responses.retrieve(final.id).output_text == "One two three four five."


def test_a_function_tool_loop_json_and_streamed(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    sdk = client(muse_http, key)
    first = sdk.responses.create(model="default", input=f"Weather in Lisbon? {uuid.uuid4().hex}",
                                 tools=[WEATHER])
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments)["city"]
    declared = sdk_fakes["gemini"].calls[-1].body["tools"][0]["functionDeclarations"]
    assert [d["name"] for d in declared] == ["get_weather"]

    result = {"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 21}'}
    second = sdk.responses.create(model="default", previous_response_id=first.id, input=[result],
                                  tools=[WEATHER])
    assert second.output_text == "Hello from Gemini."
    parts = [part for turn in sdk_fakes["gemini"].calls[-1].body["contents"] for part in turn["parts"]]
    assert any(part.get("functionResponse", {}).get("name") == "get_weather" for part in parts)

    prompt = f"Weather? {uuid.uuid4().hex}"
    with sdk.responses.stream(model="default", input=prompt, tools=[WEATHER]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds and kinds[-1] == "response.completed"
    assert [item.type for item in final.output] == ["function_call"]


def test_structured_output_with_a_json_schema(muse_http, sdk_fakes):
    key, _ = new_user(muse_http)
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
              "additionalProperties": False}
    response = client(muse_http, key).responses.create(
        model="default", input=question(),
        text={"format": {"type": "json_schema", "name": "place", "schema": schema, "strict": True}})
    assert set(json.loads(response.output_text)) == {"city"}
    config = sdk_fakes["gemini"].calls[-1].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"


@pytest.mark.parametrize(("extra", "param"), [
    ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
    ({"conversation": "conv_1"}, "conversation"),
    ({"include": ["reasoning.encrypted_content"]}, "include"),
    ({"truncation": "auto"}, "truncation"),
    ({"input": [{"type": "input_file", "file_id": "f"}]}, "input[0].type"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}]},
     "input[0].content[0]"),
])
def test_what_is_not_offered_is_refused_by_name_and_not_charged(muse_http, sdk_fakes, extra, param):
    key, _ = new_user(muse_http)
    body = {"model": "default", "input": question(), **extra}
    with pytest.raises(openai.BadRequestError) as refused:
        client(muse_http, key).responses.create(**body)
    assert refused.value.body["param"] == param
    assert sdk_fakes["gemini"].count("generateContent") == 0
