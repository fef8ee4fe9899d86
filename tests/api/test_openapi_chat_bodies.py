"""The document says what the chat APIs check (issue 27, schemathesis' positive-data check): a chat
body is valid by /openapi.json exactly when Muse does not refuse it as malformed (400 under /v1,
422 under /api/v1). Each pair below was a schema-valid body that Muse refused (images in an
assistant or system turn, an image URL of no accepted form, a turn of blank text parts, a request
of system turns only, an option no configured provider honours), or is its accepted counterpart."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.fixtures.identity import auth_headers
from tests.fixtures.images import picture

PNG = "data:image/png;base64," + base64.b64encode(picture("PNG", colour="red")).decode()


def _image(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("/v1/chat/completions",
     {"messages": [{"role": "user", "content": [_text("What colour?"), _image(PNG)]}]}, True),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"},
                                           {"role": "assistant", "content": [_text("Look"), _image(PNG)]},
                                           {"role": "user", "content": "And?"}]}, False),
    ("/v1/chat/completions", {"messages": [{"role": "system", "content": [_image(PNG)]},
                                           {"role": "user", "content": "Hi"}]}, False),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": [_text("Hi"), _image("ftp://x/a.png")]}]},
     False),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": [_text(" "), _text("\n")]}]}, False),
    ("/v1/chat/completions", {"messages": [{"role": "system", "content": "Be brief."},
                                           {"role": "assistant", "content": ""}]}, False),
    ("/v1/chat/completions", {"messages": [{"role": "system", "content": "Be brief."},
                                           {"role": "assistant", "content": "Hello."}]}, True),
    ("/api/v1/chat", {"messages": [{"role": "user", "content": [_text("Hi"), _image("nope")]}]}, False),
    ("/api/v1/chat", {"messages": [{"role": "user", "content": [_text("  ")]}]}, False),
    ("/api/v1/chat", {"messages": [{"role": "user", "content": [_text("What colour?"), _image(PNG)]}]}, True),
    ("/v1/responses", {"input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What?"}, {"type": "input_image", "image_url": "a.png"}]}]}, False),
    ("/v1/responses", {"input": [{"role": "user", "content": [{"type": "input_text", "text": " "}]}]}, False),
    ("/v1/responses", {"input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What colour?"}, {"type": "input_image", "image_url": PNG}]}]}, True),
    ("/v1/responses", {"input": [{"role": "system", "type": "message", "content": "Be brief."}]}, False),
    ("/v1/responses", {"input": [{"role": "developer", "content": "Be brief."},
                                 {"role": "assistant", "content": "Hello."}]}, True),
    # OpenAI (configured here) honours every option: each is documented as taken
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}], "logprobs": True}, True),
    ("/api/v1/chat", {"messages": [{"role": "user", "content": "Hi"}], "verbosity": "low"}, True),
]


async def _validator(client, path: str) -> Draft202012Validator:
    spec = await (await client.get("/openapi.json")).get_json()
    schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": spec["components"]})


@pytest.mark.parametrize(("path", "body", "valid"), CASES)
async def test_a_chat_body_is_documented_valid_exactly_when_muse_takes_it(chat_app, fake_gemini, path, body,
                                                                         valid):
    client = chat_app.test_client()
    body = {"model": "default", **body}
    errors = [e.message[:200] for e in (await _validator(client, path)).iter_errors(body)]
    assert (not errors) == valid, errors
    response = await client.post(path, json=body, headers=await auth_headers(chat_app, "alice"))
    refused = response.status_code in (400, 422)
    assert refused != valid, (response.status_code, await response.get_data(as_text=True))
    if valid:
        assert response.status_code == 200


# With Gemini alone, an option it cannot honour (logprobs, logit_bias, verbosity) is refused by name
# (services/chat/routing.py): the document takes only the values that ask nothing of a provider.
GEMINI_ONLY: list[tuple[str, dict[str, Any], bool]] = [
    ("/v1/chat/completions", {"logprobs": True}, False),
    ("/v1/chat/completions", {"logprobs": False}, True),
    ("/v1/chat/completions", {"logit_bias": {"50256": -100}}, False),
    ("/api/v1/chat", {"verbosity": "low"}, False),
    ("/api/v1/chat", {"logit_bias": {}}, True),
]


@pytest.mark.parametrize(("path", "options", "valid"), GEMINI_ONLY)
async def test_an_option_no_provider_honours_is_documented_as_refused(chat_app_factory, fake_gemini, path,
                                                                      options, valid):
    async with chat_app_factory(chat_providers=["gemini"]) as app:
        client = app.test_client()
        body = {"model": "default", "messages": [{"role": "user", "content": "Hi"}], **options}
        errors = [e.message[:200] for e in (await _validator(client, path)).iter_errors(body)]
        assert (not errors) == valid, errors
        response = await client.post(path, json=body, headers=await auth_headers(app, "alice"))
        assert (response.status_code == 200) == valid, await response.get_data(as_text=True)
        if not valid:
            assert response.status_code in (400, 422)
            assert next(iter(options)) in await response.get_data(as_text=True)  # refused by name
