"""The offline `local` provider answers tool and JSON requests deterministically (contract §18)."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from providers.local_chat import LocalChatProvider
from services.chat.options import ChatOptions, ResponseFormat, Tool, ToolCall
from services.chat.ports import ChatMessage

WEATHER = Tool(name="get_weather", parameters={
    "type": "object", "properties": {"city": {"type": "string", "minLength": 2},
                                     "days": {"type": "integer", "minimum": 1, "maximum": 7},
                                     "unit": {"enum": ["c", "f"]}},
    "required": ["city", "days", "unit"]})
TIME = Tool(name="get_time", parameters={"type": "object", "properties": {"zone": {"type": "string"}}})
ASK = [ChatMessage("user", "Weather in Lisbon?")]


async def complete(messages, options):
    return await LocalChatProvider().complete(messages, temperature=None, timeout=1, request_id=None,
                                              options=options)


async def test_it_calls_the_first_tool_with_arguments_that_fit_its_schema():
    answer = await complete(ASK, ChatOptions(tools=(WEATHER, TIME)))
    [call] = answer.tool_calls
    assert answer.finish_reason == "tool_calls" and call.name == "get_weather"
    assert Draft202012Validator(WEATHER.parameters).is_valid(json.loads(call.arguments))
    assert (await complete(ASK, ChatOptions(tools=(WEATHER, TIME)))).tool_calls == (call,)  # deterministic


async def test_it_calls_the_named_tool_and_none_answers_text():
    named = await complete(ASK, ChatOptions(tools=(WEATHER, TIME), tool_choice="get_time"))
    assert [c.name for c in named.tool_calls] == ["get_time"]
    text = await complete(ASK, ChatOptions(tools=(WEATHER,), tool_choice="none"))
    assert not text.tool_calls and "You said: Weather in Lisbon?" in text.content


async def test_it_answers_text_once_a_tool_result_follows():
    call = ToolCall(id="call_1", name="get_weather", arguments='{"city": "Lisbon"}')
    loop = [*ASK, ChatMessage("assistant", "", tool_calls=(call,)),
            ChatMessage("tool", '{"temp": 21}', tool_call_id="call_1", name="get_weather")]
    answer = await complete(loop, ChatOptions(tools=(WEATHER,)))
    assert not answer.tool_calls and answer.finish_reason == "stop"
    assert 'get_weather: {"temp": 21}' in answer.content


async def test_streams_yield_the_call_and_json_answers_fit_their_schema():
    deltas = [d async for d in LocalChatProvider().stream(ASK, temperature=None, timeout=1, request_id=None,
                                                          options=ChatOptions(tools=(WEATHER,)))]
    assert [type(d) for d in deltas] == [ToolCall]
    schema = {"type": "object", "properties": {"answer": {"type": "string"}, "n": {"type": "integer"}},
              "required": ["answer", "n"]}
    form = ResponseFormat(type="json_schema", schema=schema, strict=True)
    answer = await complete(ASK, ChatOptions(response_format=form))
    assert Draft202012Validator(schema).is_valid(json.loads(answer.content))
    plain = await complete(ASK, ChatOptions(response_format=ResponseFormat(type="json_object")))
    assert json.loads(plain.content)["answer"].endswith("You said: Weather in Lisbon?")


async def test_a_stop_sequence_ends_the_answer_before_it():
    answer = await complete(ASK, ChatOptions(stop=("Lisbon",)))
    assert answer.content.endswith("Weather in ") and "Lisbon" not in answer.content
