"""Real clients of tools and structured output against a running Muse over HTTP (contract §18), with Gemini
first and with OpenAI first: the openai SDK (a two-turn tool loop, JSON and streamed; `parse()` with a
pydantic model), langchain-openai (`bind_tools` loop, `with_structured_output`), the OpenAI Agents SDK
(a function tool actually called) and the `llm` CLI (`--schema`)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from tests.api.test_chat_images_clients import muse_vision, upstreams  # noqa: F401 (fixtures)
from tests.fixtures.openai_server import ThreadedMuse

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


class Film(BaseModel):
    title: str
    year: int


def sdk_for(muse: ThreadedMuse, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=muse.base_url + "/v1", max_retries=0)


def new_key(muse: ThreadedMuse) -> str:
    return muse.user_key(f"user_{uuid.uuid4().hex[:10]}")[0]


def other(first: str) -> str:
    return "openai" if first == "gemini" else "gemini"


def test_the_openai_sdk_runs_a_two_turn_tool_loop(muse_vision, upstreams):  # noqa: F811
    muse, first = muse_vision
    client = sdk_for(muse, new_key(muse))
    messages: list[Any] = [{"role": "user", "content": f"Weather in Oslo? {uuid.uuid4().hex}"}]
    raw = client.chat.completions.with_raw_response.create(model="default", messages=messages,
                                                           tools=[WEATHER])
    completion = raw.parse()
    assert raw.headers["X-Muse-Provider"] == first
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "city"}
    messages += [choice.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"sky": "clear"})}]
    final = client.chat.completions.create(model="default", messages=messages, tools=[WEATHER])
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == f"A picture, says {first}."
    assert upstreams[other(first)].count() == 0


def test_the_openai_sdk_streams_a_tool_call_and_its_answer(muse_vision, upstreams):  # noqa: F811
    muse, first = muse_vision
    client = sdk_for(muse, new_key(muse))
    messages: list[Any] = [{"role": "user", "content": f"Weather in Rome? {uuid.uuid4().hex}"}]
    with client.chat.completions.stream(model="default", messages=messages, tools=[WEATHER]) as stream:
        for _event in stream:
            pass
        streamed = stream.get_final_completion()
    choice = streamed.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "city"}
    messages += [{"role": "assistant", "tool_calls": [call.model_dump(exclude={"parsed_arguments"})]},
                 {"role": "tool", "tool_call_id": call.id, "content": "rain"}]
    chunks = client.chat.completions.create(model="default", messages=messages, tools=[WEATHER], stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"A picture, says {first}."


def test_the_openai_sdk_parses_a_pydantic_model(muse_vision, upstreams):  # noqa: F811
    muse, first = muse_vision
    client = sdk_for(muse, new_key(muse))
    parsed = client.chat.completions.parse(
        model="default", response_format=Film,
        messages=[{"role": "user", "content": f"A film from the fifties {uuid.uuid4().hex}"}])
    assert parsed.choices[0].message.parsed == Film(title="title", year=1)
    sent = upstreams[first].calls[-1].body
    if first == "openai":
        assert sent["response_format"]["json_schema"]["strict"] is True
    else:
        assert sent["generationConfig"]["responseMimeType"] == "application/json"


def test_langchain_binds_tools_and_runs_the_loop(muse_vision, upstreams):  # noqa: F811
    from langchain_core.messages import HumanMessage, ToolMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    muse, first = muse_vision

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    model = ChatOpenAI(model="default", api_key=new_key(muse), base_url=muse.base_url + "/v1", max_retries=0)
    messages: list[Any] = [HumanMessage(f"Weather in Nice? {uuid.uuid4().hex}")]
    asked = model.bind_tools([get_weather]).invoke(messages)
    assert [c["name"] for c in asked.tool_calls] == ["get_weather"]
    messages += [asked, ToolMessage(get_weather.invoke(asked.tool_calls[0]["args"]),
                                    tool_call_id=asked.tool_calls[0]["id"])]
    answer = model.bind_tools([get_weather]).invoke(messages)
    assert answer.content == f"A picture, says {first}." and not answer.tool_calls
    assert upstreams[first].count() == 2


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_langchain_with_structured_output(muse_vision, upstreams, method):  # noqa: F811
    from langchain_openai import ChatOpenAI

    muse, _first = muse_vision
    model = ChatOpenAI(model="default", api_key=new_key(muse), base_url=muse.base_url + "/v1", max_retries=0)
    if method == "json_mode":
        for fake in upstreams.values():
            fake.json_reply = json.dumps({"title": "Vertigo", "year": 1958})
    structured = model.with_structured_output(Film, method=method)
    film = structured.invoke(f"A film as JSON with title and year {uuid.uuid4().hex}")
    expected = Film(title="Vertigo", year=1958) if method == "json_mode" else Film(title="title", year=1)
    assert film == expected


def test_the_agents_sdk_calls_a_function_tool(muse_vision, upstreams):  # noqa: F811
    from agents import Agent, Runner, function_tool, set_tracing_disabled

    muse, first = muse_vision
    called: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        called.append(city)
        return f"sunny in {city}"

    set_tracing_disabled(True)
    client = openai.AsyncOpenAI(api_key=new_key(muse), base_url=muse.base_url + "/v1", max_retries=0)
    from agents import OpenAIChatCompletionsModel

    agent = Agent(name="forecaster", instructions="Use the tool.", tools=[get_weather],
                  model=OpenAIChatCompletionsModel(model="default", openai_client=client))
    result = asyncio.run(Runner.run(agent, f"Weather in Bergen? {uuid.uuid4().hex}"))
    assert called == ["city"]  # the fake model asked for the tool with schema-fitting arguments
    assert result.final_output == f"A picture, says {first}."
    assert upstreams[first].count() == 2


def llm_cli(muse: ThreadedMuse, home: Path, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`llm` as a user runs it, with Muse as an OpenAI-compatible model that supports schemas and tools."""
    (home / "extra-openai-models.yaml").write_text(
        f"- model_id: muse\n  model_name: default\n  api_base: {muse.base_url}/v1\n"
        "  supports_schema: true\n  supports_tools: true\n  api_key_name: muse\n")
    env = {**os.environ, "LLM_USER_PATH": str(home), "NO_PROXY": "127.0.0.1,localhost"}
    env.pop("OPENAI_API_KEY", None)
    llm = Path(sys.executable).with_name("llm")
    return subprocess.run([str(llm), "-m", "muse", "--key", key, *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_the_llm_cli_answers_with_a_schema(muse_vision, upstreams, tmp_path):  # noqa: F811
    muse, first = muse_vision
    key = new_key(muse)
    done = llm_cli(muse, tmp_path, key, "--schema", "title, year int", "--no-stream",
                   f"Invent a film {uuid.uuid4().hex}")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"title": "title", "year": 1}
    sent = upstreams[first].calls[-1].body
    assert ("response_format" in sent) if first == "openai" else (
        sent["generationConfig"]["responseMimeType"] == "application/json")


def test_the_llm_cli_runs_a_tool(muse_vision, upstreams, tmp_path):  # noqa: F811
    muse, first = muse_vision
    done = llm_cli(muse, tmp_path, new_key(muse), "-T", "llm_version", "--td", "--no-stream",
                   f"Which llm version is this? {uuid.uuid4().hex}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"A picture, says {first}.")
    assert "llm_version" in done.stderr + done.stdout  # --td shows the tool call and its result
    requests = [call.body for call in upstreams[first].calls]
    assert len(requests) == 2  # the call, then the answer to its result
    if first == "openai":
        assert requests[1]["messages"][-1]["role"] == "tool"
    else:
        assert "functionResponse" in requests[1]["contents"][-1]["parts"][0]
