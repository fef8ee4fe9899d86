"""Structured output (contract §18): `response_format` reaches both providers; an answer that is not JSON,
or off a strict schema, is incomplete: failover first, refund otherwise, never cached."""

from __future__ import annotations

import json
import uuid

from tests.api.test_chat_api import ledger_kinds, user_of
from tests.api.test_chat_tools import v1
from tests.fakes.gemini import camel_or_snake

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}, "year": {"type": "integer"}},
          "required": ["title", "year"], "additionalProperties": False}
STRICT = {"type": "json_schema", "json_schema": {"name": "film", "schema": SCHEMA, "strict": True}}


def question() -> list[dict]:
    return [{"role": "user", "content": f"A film, as JSON {uuid.uuid4().hex}"}]


async def test_json_schema_reaches_gemini_and_the_answer_fits(chat_app, fake_gemini):
    response = await v1(chat_app, {"messages": question(), "response_format": STRICT})
    data = await response.get_json()
    assert response.status_code == 200, data
    assert json.loads(data["choices"][0]["message"]["content"]) == {"title": "title", "year": 1}
    config = fake_gemini.calls[-1].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert camel_or_snake(config, "responseJsonSchema") == SCHEMA


async def test_json_object_reaches_openai(chat_app_factory, fake_openai):
    async with chat_app_factory(chat_providers=["openai"]) as app:
        response = await v1(app, {"messages": question(), "response_format": {"type": "json_object"}})
        data = await response.get_json()
    assert json.loads(data["choices"][0]["message"]["content"]) == {"answer": "Hello from OpenAI."}
    assert fake_openai.calls[-1].body["response_format"] == {"type": "json_object"}


async def test_invalid_json_from_gemini_fails_over_to_openai(chat_app, fake_gemini, fake_openai):
    fake_gemini.json_reply = "Sure! Here is your film: Vertigo"
    response = await v1(chat_app, {"messages": question(), "response_format": STRICT})
    data = await response.get_json()
    assert response.status_code == 200, data
    assert response.headers["X-Muse-Provider"] == "openai"
    assert json.loads(data["choices"][0]["message"]["content"]) == {"title": "title", "year": 1}
    assert fake_openai.calls[-1].body["response_format"] == STRICT


async def test_an_answer_off_a_strict_schema_fails_over(chat_app, fake_gemini, fake_openai):
    fake_gemini.json_reply = json.dumps({"title": "Vertigo", "year": "1958"})  # year must be an integer
    response = await v1(chat_app, {"messages": question(), "response_format": STRICT})
    assert response.status_code == 200 and response.headers["X-Muse-Provider"] == "openai"
    fake_gemini.reset()
    fake_gemini.json_reply = json.dumps({"title": "Vertigo", "year": "1958"})
    loose = {"type": "json_schema", "json_schema": {"name": "film", "schema": SCHEMA, "strict": False}}
    response = await v1(chat_app, {"messages": question(), "response_format": loose})
    assert response.status_code == 200 and response.headers["X-Muse-Provider"] == "gemini"  # not checked


async def test_an_invalid_json_answer_is_refunded_and_never_cached(chat_app, fake_gemini, fake_openai):
    fake_gemini.json_reply = fake_openai.json_reply = "not json at all"
    messages = question()
    first = await v1(chat_app, {"messages": messages, "response_format": {"type": "json_object"}})
    data = await first.get_json()
    assert first.status_code == 502, data
    again = await v1(chat_app, {"messages": messages, "response_format": {"type": "json_object"}})
    assert again.status_code == 502
    assert fake_gemini.count() == 2 and fake_openai.count() == 2  # asked again: nothing was cached
    user = await user_of(chat_app, "toolsmith")
    assert await ledger_kinds(chat_app, user.id) == ["chat", "chat", "refund", "refund"]


async def test_a_streamed_invalid_json_answer_ends_in_an_error_and_a_refund(chat_app, fake_gemini):
    fake_gemini.json_reply = "{not json"
    messages = question()
    response = await v1(chat_app, {"messages": messages, "response_format": {"type": "json_object"},
                                   "stream": True})
    raw = await response.get_data(as_text=True)
    assert "event: error" in raw and "incomplete" in raw, raw
    assert response.headers["X-Muse-Credits-Charged"] == "1"
    user = await user_of(chat_app, "toolsmith")
    assert await ledger_kinds(chat_app, user.id) == ["chat", "refund"]
    fake_gemini.json_reply = None
    replay = await v1(chat_app, {"messages": messages, "response_format": {"type": "json_object"}})
    assert replay.headers["X-Muse-Cached"] == "false"  # the broken answer was not cached


async def test_a_schema_that_is_not_a_json_schema_is_400(chat_app, fake_gemini):
    bad = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "thing"}}}
    response = await v1(chat_app, {"messages": question(), "response_format": bad})
    data = await response.get_json()
    assert response.status_code == 400, data
    assert data["error"]["param"] == "response_format.json_schema.schema"
    assert fake_gemini.count() == 0
