"""Tools (function calling, contract §18) through /v1/chat/completions and /api/v1/chat, JSON and streamed,
against the Gemini and OpenAI wire fakes (which record what they received)."""

from __future__ import annotations

import json
import uuid

from tests.api.test_chat_api import events
from tests.fakes.gemini import camel_or_snake
from tests.fixtures.identity import auth_headers

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                    "unit": {"enum": ["c", "f"]}},
                   "required": ["city", "unit"]}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {
    "type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}}}


def question() -> list[dict]:
    return [{"role": "user", "content": f"Weather in Lisbon? {uuid.uuid4().hex}"}]


async def v1(app, payload: dict, *, clerk_id: str = "toolsmith"):
    auth = await auth_headers(app, clerk_id)
    return await app.test_client().post("/v1/chat/completions", headers=auth,
                                        json={"model": "default", **payload})


def chunks(raw: str) -> list[dict]:
    return [json.loads(line[6:]) for line in raw.splitlines()
            if line.startswith("data: ") and line != "data: [DONE]"]


async def test_a_two_turn_tool_loop_through_gemini(chat_app, fake_gemini, fake_openai):
    messages = question()
    first = await v1(chat_app, {"messages": messages, "tools": [WEATHER, TIME]})
    answer = await first.get_json()
    assert first.status_code == 200, answer
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["function"]["name"] == "get_weather" and call["id"]
    assert json.loads(call["function"]["arguments"]) == {"city": "city", "unit": "c"}
    sent = fake_gemini.calls[-1].body
    declarations = sent["tools"][0]["functionDeclarations"]
    assert [d["name"] for d in declarations] == ["get_weather", "get_time"]
    assert camel_or_snake(declarations[0], "parametersJsonSchema") == WEATHER["function"]["parameters"]
    assert declarations[0]["description"] == "The weather in a city"
    assert sent["toolConfig"]["functionCallingConfig"]["mode"] == "AUTO"

    messages += [choice["message"], {"role": "tool", "tool_call_id": call["id"], "content": '{"temp": 21}'}]
    second = await v1(chat_app, {"messages": messages, "tools": [WEATHER, TIME]})
    final = await second.get_json()
    assert second.status_code == 200, final
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["choices"][0]["message"]["content"] == "Hello from Gemini."
    contents = fake_gemini.calls[-1].body["contents"]
    assert contents[1]["role"] == "model"
    assert contents[1]["parts"][0]["functionCall"]["name"] == "get_weather"
    assert contents[1]["parts"][0]["functionCall"]["args"] == {"city": "city", "unit": "c"}
    assert contents[2]["parts"][0]["functionResponse"] == {
        "id": call["id"], "name": "get_weather", "response": {"temp": 21}}
    assert fake_openai.count() == 0


async def test_tool_choice_forms_reach_gemini(chat_app, fake_gemini):
    for choice, mode, allowed in (("none", "NONE", None), ("required", "ANY", None),
                                  ({"type": "function", "function": {"name": "get_time"}}, "ANY",
                                   ["get_time"])):
        response = await v1(chat_app, {"messages": question(), "tools": [WEATHER, TIME],
                                       "tool_choice": choice})
        answer = await response.get_json()
        assert response.status_code == 200, answer
        config = fake_gemini.calls[-1].body["toolConfig"]["functionCallingConfig"]
        assert config["mode"] == mode and config.get("allowedFunctionNames") == allowed
        message = answer["choices"][0]["message"]
        if choice == "none":
            assert message["content"] == "Hello from Gemini." and "tool_calls" not in message
        else:
            expected = "get_time" if allowed else "get_weather"
            assert message["tool_calls"][0]["function"]["name"] == expected


async def test_a_streamed_tool_call_fails_over_from_gemini_to_openai_before_the_first_delta(
        chat_app, fake_gemini, fake_openai):
    fake_gemini.mode = "503"
    response = await v1(chat_app, {"messages": question(), "tools": [WEATHER], "stream": True,
                                   "tool_choice": {"type": "function", "function": {"name": "get_weather"}}})
    raw = await response.get_data(as_text=True)
    assert response.status_code == 200, raw
    assert response.headers["X-Muse-Provider"] == "openai"
    assert response.headers["X-Muse-Credits-Charged"] == "1"
    parts = [c["choices"][0] for c in chunks(raw) if c["choices"]]
    fragments = [f for p in parts for f in p["delta"].get("tool_calls") or []]
    head, *rest = fragments
    assert head["index"] == 0 and head["id"] and head["function"]["name"] == "get_weather"
    assert rest and all(f["index"] == 0 and "name" not in f["function"] for f in rest)
    arguments = "".join(f["function"]["arguments"] for f in fragments)
    assert json.loads(arguments) == {"city": "city", "unit": "c"}
    assert parts[-1]["finish_reason"] == "tool_calls"
    assert fake_gemini.count() == 1 and fake_openai.count() == 1
    sent = fake_openai.calls[-1].body
    assert sent["tools"] == [WEATHER]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


async def test_openai_receives_the_tool_loop_in_its_own_shape(chat_app_factory, fake_openai):
    async with chat_app_factory(chat_providers=["openai"]) as app:
        messages = question()
        first = await (await v1(app, {"messages": messages, "tools": [WEATHER],
                                      "parallel_tool_calls": False})).get_json()
        call = first["choices"][0]["message"]["tool_calls"][0]
        messages += [first["choices"][0]["message"],
                     {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
        second = await (await v1(app, {"messages": messages, "tools": [WEATHER]})).get_json()
    assert second["choices"][0]["message"]["content"] == "Hello from OpenAI."
    sent = fake_openai.calls[-1].body["messages"]
    assert sent[1] == {"role": "assistant", "content": None, "tool_calls": [call]}
    assert sent[2] == {"role": "tool", "content": "sunny", "tool_call_id": call["id"]}
    assert fake_openai.calls[0].body["parallel_tool_calls"] is False


async def test_a_cached_tool_answer_keeps_its_tool_calls(chat_app, fake_gemini):
    messages = question()
    first = await (await v1(chat_app, {"messages": messages, "tools": [WEATHER]})).get_json()
    again = await v1(chat_app, {"messages": messages, "tools": [WEATHER]})
    second = await again.get_json()
    assert again.headers["X-Muse-Cached"] == "true"
    assert second["choices"][0]["message"]["tool_calls"] == first["choices"][0]["message"]["tool_calls"]
    assert second["choices"][0]["finish_reason"] == "tool_calls"
    other = await v1(chat_app, {"messages": messages, "tools": [TIME]})  # other tools: another answer
    assert other.headers["X-Muse-Cached"] == "false" and fake_gemini.count() == 2


async def test_bad_tool_requests_are_400_naming_the_field(chat_app, fake_gemini):
    cases = [
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
         "tool_choice"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "objekt"}}}]},
         "tools.0.function.parameters"),
    ]
    for extra, param in cases:
        response = await v1(chat_app, {"messages": question(), **extra})
        data = await response.get_json()
        assert response.status_code == 400 and data["error"]["param"] == param, data
    orphan = [*question(), {"role": "tool", "tool_call_id": "call_x", "content": "?"}]
    response = await v1(chat_app, {"messages": orphan, "tools": [WEATHER]})
    data = await response.get_json()
    assert response.status_code == 400 and data["error"]["param"] == "messages.1.tool_call_id", data
    assert fake_gemini.count() == 0


async def test_api_v1_streams_tool_call_events_and_stores_the_loop(chat_app, fake_gemini):
    auth = await auth_headers(chat_app, "toolsmith")
    client = chat_app.test_client()
    tools = [WEATHER]
    response = await client.post("/api/v1/chat", headers=auth, json={
        "messages": [{"role": "user", "content": "Weather in Porto?"}], "tools": tools, "stream": True})
    streamed = events(await response.get_data(as_text=True))
    names = [name for name, _ in streamed]
    assert names == ["meta", "tool_call", "done"], streamed
    call = streamed[1][1]
    assert call["index"] == 0 and call["name"] == "get_weather" and json.loads(call["arguments"])
    assert streamed[2][1]["finish_reason"] == "tool_calls"
    conversation_id = streamed[0][1]["conversation_id"]

    answer = await client.post("/api/v1/chat", headers=auth, json={
        "conversation_id": conversation_id, "tools": tools,
        "messages": [{"role": "tool", "tool_call_id": call["id"], "content": '{"temp": 18}'}]})
    data = await answer.get_json()
    assert answer.status_code == 200, data
    assert data["message"] == {"role": "assistant", "content": "Hello from Gemini."}
    function_response = fake_gemini.calls[-1].body["contents"][-1]["parts"][0]["functionResponse"]
    assert function_response["name"] == "get_weather" and function_response["response"] == {"temp": 18}

    stored = await (await client.get(f"/api/v1/conversations/{conversation_id}", headers=auth)).get_json()
    turns = [(m["role"], m.get("tool_calls"), m.get("tool_call_id")) for m in stored["messages"]]
    assert turns[0] == ("user", None, None)
    assert turns[1][0] == "assistant" and turns[1][1][0]["function"]["name"] == "get_weather"
    assert turns[2] == ("tool", None, call["id"])
    assert turns[3] == ("assistant", None, None)
