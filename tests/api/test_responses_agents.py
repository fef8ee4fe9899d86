"""The OpenAI Agents SDK with nothing but a base URL and a key: its default is the Responses API
(`POST /v1/responses`), with Gemini first and with OpenAI first (contract §12)."""

from __future__ import annotations

import asyncio
import uuid

import openai
import pytest
from pydantic import BaseModel

from tests.api.test_chat_images_clients import muse_vision, upstreams  # noqa: F401 (fixtures)
from tests.fixtures.openai_server import ThreadedMuse


class Forecast(BaseModel):
    city: str
    summary: str


def agent_and_config(muse: ThreadedMuse, called: list[str]):
    from agents import Agent, RunConfig, function_tool
    from agents.models.openai_provider import OpenAIProvider

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        called.append(city)
        return f"sunny in {city}"

    key = muse.user_key(f"agent_{uuid.uuid4().hex[:10]}")[0]
    agent = Agent(name="forecaster", instructions="Call the tool, then answer.", tools=[get_weather],
                  output_type=Forecast, model="default")
    # A client of its own (the SDK's shared HTTP client is bound to the event loop of an earlier test).
    client = openai.AsyncOpenAI(api_key=key, base_url=muse.base_url + "/v1", max_retries=0)
    config = RunConfig(model_provider=OpenAIProvider(openai_client=client), tracing_disabled=True)
    return agent, config


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
def test_an_agent_calls_its_tool_and_returns_its_output_type(muse_vision, upstreams, streamed):  # noqa: F811
    from agents import Runner

    muse, first = muse_vision
    called: list[str] = []
    agent, config = agent_and_config(muse, called)
    before = muse.requests("/v1/responses")
    prompt = f"Weather in Bergen? {uuid.uuid4().hex}"

    async def run():
        if not streamed:
            return await Runner.run(agent, prompt, run_config=config)
        result = Runner.run_streamed(agent, prompt, run_config=config)
        kinds = [event.type async for event in result.stream_events()]
        assert "raw_response_event" in kinds and "run_item_stream_event" in kinds
        return result

    result = asyncio.run(run())
    assert called == ["city"]  # the fake model asked for the tool with schema-fitting arguments
    assert isinstance(result.final_output, Forecast)
    assert muse.requests("/v1/responses") == before + 2  # the Agents SDK's default API, twice
    assert upstreams[first].count() == 2
    other = "openai" if first == "gemini" else "gemini"
    assert upstreams[other].count() == 0
