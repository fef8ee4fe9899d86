"""The chat request field registry (contract §18): every field is honoured or refused by name.

`OPENAI_FIELDS` classifies each field of OpenAI's chat-completions request (the openai SDK's
`CompletionCreateParamsBase`; tests/api/test_chat_fields.py walks it and fails on a field that
is missing here). Honoured fields reach the provider that answers (and the cache key when they can
change the answer); refused fields, and refused values of limited ones, are answered 400 under
/v1 (422 under /api/v1) with `param` naming the field and a sentence saying why. The README's
table and `/openapi.json` (`x-muse-fields` on the request schemas) are made from this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from services.chat.options import ChatOptions
from services.chat.ports import ChatMessage
from services.chat.structured import schema_problem
from services.platform.errors import AppError, BadRequest, ValidationFailed

Status = Literal["honoured", "limited", "refused"]

# field → (status, what Muse does with it). "limited": honoured for the values said, refused otherwise.
OPENAI_FIELDS: dict[str, tuple[Status, str]] = {
    "model": ("honoured", "a catalogue model name (GET /v1/models)"),
    "messages": ("honoured", "system/developer/user/assistant (with tool_calls)/tool turns"),
    "temperature": ("honoured", "Gemini temperature; OpenAI temperature"),
    "top_p": ("honoured", "Gemini topP; OpenAI top_p"),
    "stop": ("honoured", "up to 4 strings: Gemini stopSequences; OpenAI stop"),
    "seed": ("honoured", "Gemini seed; OpenAI seed (32-bit: Gemini's range)"),
    "presence_penalty": ("honoured", "Gemini presencePenalty; OpenAI presence_penalty"),
    "frequency_penalty": ("honoured", "Gemini frequencyPenalty; OpenAI frequency_penalty"),
    "max_tokens": ("honoured", "Gemini maxOutputTokens; OpenAI max_completion_tokens"),
    "max_completion_tokens": ("honoured", "as max_tokens (wins when both are sent)"),
    "logit_bias": ("honoured", "OpenAI only: such requests go to the model's OpenAI provider"),
    "reasoning_effort": ("honoured", "Gemini thinkingConfig (thinkingLevel; none: budget 0); OpenAI "
                                     "reasoning_effort"),
    "verbosity": ("honoured", "OpenAI only: such requests go to the model's OpenAI provider"),
    "user": ("honoured", "OpenAI user; Gemini has no end-user field (not part of the answer)"),
    "safety_identifier": ("honoured", "OpenAI safety_identifier; Gemini has no such field"),
    "tools": ("honoured", "function tools: Gemini functionDeclarations; OpenAI tools"),
    "tool_choice": ("honoured", "auto/none/required/named: Gemini functionCallingConfig; OpenAI"),
    "parallel_tool_calls": ("honoured", "OpenAI; `false` goes to OpenAI (Gemini may call several)"),
    "response_format": ("honoured", "json_object/json_schema: Gemini responseMimeType + responseJsonSchema; "
                                    "OpenAI response_format; strict schemas checked"),
    "stream": ("honoured", "server-sent chat.completion.chunk events"),
    "stream_options": ("honoured", "include_usage"),
    "n": ("limited", "1 to 4 choices, each charged (not cached); streamed: 1 only"),
    "logprobs": ("honoured", "OpenAI only: such requests go to the model's OpenAI provider; not streamed"),
    "modalities": ("limited", "[\"text\"] only: audio output is not offered"),
    "store": ("limited", "false only: /v1 chat completions are not stored"),
    "top_logprobs": ("honoured", "with logprobs: OpenAI top_logprobs"),
    "audio": ("refused", "audio output is not offered"),
    "prediction": ("refused", "predicted outputs are not offered"),
    "web_search_options": ("refused", "web search is not offered"),
    "functions": ("refused", "the deprecated functions API: send `tools`"),
    "function_call": ("refused", "the deprecated functions API: send `tool_choice`"),
    "metadata": ("refused", "metadata is for stored completions, which Muse does not keep"),
    "service_tier": ("refused", "service tiers are not offered"),
    "prompt_cache_key": ("refused", "provider prompt-cache hints are not offered"),
    "prompt_cache_retention": ("refused", "provider prompt-cache hints are not offered"),
    "prompt_cache_options": ("refused", "provider prompt-cache hints are not offered"),
    "moderation": ("refused", "per-request moderation settings are not offered"),
}

# Values of "limited" fields that are honoured (the default behaviour).
_ALLOWED: dict[str, Callable[[Any], bool]] = {
    "n": lambda v: isinstance(v, int) and 1 <= v <= 4,
    "modalities": lambda v: all(m == "text" for m in v),
    "store": lambda v: v is False,
}

Fail = Callable[[str, str], AppError]  # (param, sentence) → the error to raise


def openai_fail(param: str, sentence: str) -> AppError:
    """/v1: 400 `invalid_request_error` with `param`."""
    return BadRequest(sentence, param=param)


def muse_fail(param: str, sentence: str) -> AppError:
    """/api/v1: 422 naming the field in `errors[].loc`."""
    return ValidationFailed(sentence, errors=[{"loc": ["body", *param.split(".")], "msg": sentence}])


def refuse_fields(sent: dict[str, Any], fail: Fail) -> None:
    """Raise for the first refused field sent (null is "not sent"), or limited field with a refused value."""
    for name, value in sent.items():
        status, why = OPENAI_FIELDS.get(name, ("honoured", ""))
        if value is None or status == "honoured":
            continue
        if status == "limited" and _ALLOWED[name](value):
            continue
        raise fail(name, f"`{name}` is not supported: {why}.")


def check_options(options: ChatOptions, messages: Sequence[ChatMessage], fail: Fail) -> None:
    """Rules across fields: tool_choice names a tool; schemas are JSON schemas; tool turns answer calls."""
    names = [tool.name for tool in options.tools]
    if options.tool_choice not in (None, "auto", "none") and not options.tools:
        raise fail("tool_choice", "`tool_choice` asks for a tool call: it needs `tools`.")
    if options.tool_choice not in (None, "auto", "none", "required") and options.tool_choice not in names:
        raise fail("tool_choice", f"`tool_choice` names {options.tool_choice!r}, which is not in `tools`.")
    if len(set(names)) != len(names):
        raise fail("tools", "Tool names must be unique.")
    for index, tool in enumerate(options.tools):
        problem = schema_problem(tool.parameters) if tool.parameters else None
        if problem is not None:
            raise fail(f"tools.{index}.function.parameters", f"Not a JSON schema: {problem}")
    if options.top_logprobs is not None and not options.logprobs:
        raise fail("top_logprobs", "`top_logprobs` needs `logprobs: true`.")
    form = options.response_format
    if form is not None and form.type == "json_schema":
        if form.schema is None:
            raise fail("response_format.json_schema.schema", "A json_schema response format needs `schema`.")
        problem = schema_problem(form.schema)
        if problem is not None:
            raise fail("response_format.json_schema.schema", f"Not a JSON schema: {problem}")
    _check_tool_turns(messages, fail)


def _check_tool_turns(messages: Sequence[ChatMessage], fail: Fail) -> None:
    called: set[str] = set()
    for index, message in enumerate(messages):
        called |= {call.id for call in message.tool_calls}
        if message.role == "tool" and message.tool_call_id not in called:
            raise fail(f"messages.{index}.tool_call_id",
                       "A tool message must answer a tool call of an earlier assistant message.")


def fields_doc() -> dict[str, dict[str, str]]:
    """The registry as `/openapi.json` shows it (`x-muse-fields`)."""
    return {name: {"status": status, "note": why} for name, (status, why) in OPENAI_FIELDS.items()}
