"""OpenAI-shaped chat requests and answers ⇄ google-genai types (contract §18).

Messages: images become inline data parts; assistant `tool_calls` become `functionCall` parts of a
model turn; `tool` turns become `functionResponse` parts (named after the call they answer,
consecutive results in one turn).
Options: sampling into `GenerateContentConfig`, `tools` into `functionDeclarations` (the schema as
`parameters_json_schema`), `tool_choice` into `FunctionCallingConfig` (auto → AUTO, none → NONE,
required → ANY, a name → ANY with that one allowed), `response_format` into `response_mime_type`
JSON with `response_json_schema`, `reasoning_effort` into `thinking_config`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from google.genai import types

from services.chat.options import ChatOptions, ToolCall
from services.chat.ports import ChatMessage

_LEVELS = {"minimal": types.ThinkingLevel.MINIMAL, "low": types.ThinkingLevel.LOW,
           "medium": types.ThinkingLevel.MEDIUM, "high": types.ThinkingLevel.HIGH,
           "xhigh": types.ThinkingLevel.XHIGH}


_RESOLUTION = {"low": types.PartMediaResolutionLevel.MEDIA_RESOLUTION_LOW,
               "high": types.PartMediaResolutionLevel.MEDIA_RESOLUTION_HIGH}


def _parts(m: ChatMessage) -> list[types.Part]:
    """A turn's parts: its images as inline data (OpenAI's `detail` as the part's media resolution),
    then its text, then its function calls."""
    parts = [types.Part.from_bytes(data=i.data, mime_type=i.mime,
                                   media_resolution=_RESOLUTION.get(i.detail or "")) for i in m.images]
    if m.content or not (parts or m.tool_calls):
        parts.append(types.Part(text=m.content))
    parts += [types.Part(function_call=types.FunctionCall(id=call.id, name=call.name,
                                                          args=_arguments(call.arguments)))
              for call in m.tool_calls]
    return parts


def unsupported(options: ChatOptions) -> str | None:
    """The option Gemini's API has no equivalent for (the request goes to a provider that has)."""
    if options.logit_bias:
        return "logit_bias"
    if options.verbosity is not None:
        return "verbosity"
    if options.logprobs:  # Gemini's logprobsResult is not translated to OpenAI's shape
        return "logprobs"
    if options.parallel_tool_calls is False and options.tools:  # Gemini may answer several calls at once
        return "parallel_tool_calls"
    return None


def _response_of(content: str) -> dict[str, Any]:
    """A tool result as Gemini's `functionResponse.response` object (JSON objects kept as they are)."""
    try:
        value = json.loads(content)
    except ValueError:
        return {"result": content}
    return value if isinstance(value, dict) else {"result": value}


def _arguments(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def contents(turns: list[ChatMessage]) -> list[types.Content]:
    """Non-system turns as Gemini contents (tool calls and results as function parts)."""
    names = {call.id: call.name for turn in turns for call in turn.tool_calls}
    result: list[types.Content] = []
    for turn in turns:
        if turn.role == "tool":
            name = turn.name or names.get(turn.tool_call_id or "", "tool")
            part = types.Part(function_response=types.FunctionResponse(
                id=turn.tool_call_id, name=name, response=_response_of(turn.content)))
            last = result[-1] if result else None
            if last is not None and last.role == "user" and last.parts and all(
                    p.function_response is not None for p in last.parts):
                last.parts.append(part)  # the results of one turn's calls answer together
            else:
                result.append(types.Content(role="user", parts=[part]))
            continue
        result.append(types.Content(role="model" if turn.role == "assistant" else "user", parts=_parts(turn)))
    return result


def config(options: ChatOptions, *, system: str | None, temperature: float | None,
           max_tokens: int | None, http: types.HttpOptions) -> types.GenerateContentConfig:
    """The request's options as Gemini's generation config."""
    fields: dict[str, Any] = {
        "system_instruction": system, "temperature": temperature, "max_output_tokens": max_tokens,
        "top_p": options.top_p, "seed": options.seed, "presence_penalty": options.presence_penalty,
        "frequency_penalty": options.frequency_penalty,
        "stop_sequences": list(options.stop) or None, "http_options": http,
    }
    if options.reasoning_effort is not None:
        fields["thinking_config"] = (types.ThinkingConfig(thinking_budget=0)
                                     if options.reasoning_effort == "none" else
                                     types.ThinkingConfig(thinking_level=_LEVELS[options.reasoning_effort]))
    if options.tools:
        fields["tools"] = [types.Tool(function_declarations=[
            types.FunctionDeclaration(name=t.name, description=t.description,
                                      parameters_json_schema=t.parameters or None)
            for t in options.tools])]
        fields["tool_config"] = _tool_config(options)
        fields["automatic_function_calling"] = types.AutomaticFunctionCallingConfig(disable=True)
    form = options.response_format
    if form is not None:
        fields["response_mime_type"] = "application/json"
        if form.type == "json_schema" and form.schema is not None:
            fields["response_json_schema"] = form.schema
    return types.GenerateContentConfig(**{k: v for k, v in fields.items() if v is not None})


def _tool_config(options: ChatOptions) -> types.ToolConfig | None:
    choice = options.tool_choice
    if choice is None or choice == "auto":
        mode, allowed = types.FunctionCallingConfigMode.AUTO, None
    elif choice == "none":
        mode, allowed = types.FunctionCallingConfigMode.NONE, None
    elif choice == "required":
        mode, allowed = types.FunctionCallingConfigMode.ANY, None
    else:
        mode, allowed = types.FunctionCallingConfigMode.ANY, [choice]
    return types.ToolConfig(function_calling_config=types.FunctionCallingConfig(
        mode=mode, allowed_function_names=allowed))


def tool_calls(response: types.GenerateContentResponse) -> list[ToolCall]:
    """The `functionCall` parts of the first candidate as tool calls (ids made up when Gemini gives none)."""
    calls: list[ToolCall] = []
    for candidate in (response.candidates or [])[:1]:
        for part in (candidate.content.parts if candidate.content else None) or []:
            call = part.function_call
            if call is not None and call.name:
                calls.append(ToolCall(id=call.id or f"call_{uuid.uuid4().hex[:24]}", name=call.name,
                                      arguments=json.dumps(call.args or {}, ensure_ascii=False)))
    return calls


def text_of(response: types.GenerateContentResponse) -> str:
    """The text parts of the first candidate (thoughts and function calls left out)."""
    texts: list[str] = []
    for candidate in (response.candidates or [])[:1]:
        for part in (candidate.content.parts if candidate.content else None) or []:
            if part.text and not part.thought:
                texts.append(part.text)
    return "".join(texts)
