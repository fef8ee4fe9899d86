"""The Responses API's request (contract §12) as the chat-completions request it means.

`RESPONSE_FIELDS` classifies every field of OpenAI's `responses.create` (a test walks the SDK's
type); `refuse` answers 400 naming a refused one; `chat_request` turns instructions, a stored
history and the input items, tools, tool choice, `text.format` and sampling into one
chat-completions body, checking each item and tool so that an error names its place
(`input[2].content[0].text`, `tools[0].type`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from controllers.schemas.responses import (
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionChoice,
    FunctionToolIn,
    InputImagePart,
    InputTextPart,
    MessageItem,
    OutputTextPart,
    ResponseCreateIn,
)
from services.platform.errors import BadRequest

Status = Literal["honoured", "limited", "refused"]

# Every field of OpenAI's `responses.create` (tests/api/test_responses_api.py walks the SDK's type).
RESPONSE_FIELDS: dict[str, tuple[Status, str]] = {
    "model": ("honoured", "a catalogue chat model (GET /v1/models)"),
    "input": ("honoured", "a string, or message items (input_text, input_image, output_text parts), "
                          "function_call and function_call_output items"),
    "instructions": ("honoured", "a system turn before the input (not carried to continuations)"),
    "tools": ("honoured", "function tools; hosted tools are refused by name"),
    "tool_choice": ("honoured", "auto/none/required or a named function"),
    "parallel_tool_calls": ("honoured", "as in chat completions"),
    "text": ("honoured", "format text/json_object/json_schema (strict schemas checked); verbosity"),
    "max_output_tokens": ("honoured", "the answer's length bound (status incomplete when reached)"),
    "temperature": ("honoured", "as in chat completions"),
    "top_p": ("honoured", "as in chat completions"),
    "stream": ("honoured", "OpenAI's typed server-sent events"),
    "store": ("honoured", "true (default): kept for previous_response_id, GET and DELETE"),
    "previous_response_id": ("honoured", "continues the caller's own stored response"),
    "metadata": ("honoured", "kept with the stored response and answered back"),
    "user": ("honoured", "as in chat completions"),
    "safety_identifier": ("honoured", "as in chat completions"),
    "reasoning": ("limited", "effort only (as reasoning_effort); summaries are not offered"),
    "include": ("limited", "empty only: encrypted reasoning, logprobs and tool sources are not offered"),
    "truncation": ("limited", "disabled only: a context that does not fit is an error, never cut"),
    "background": ("limited", "false only: background responses are not offered"),
    "conversation": ("refused", "OpenAI conversations are not offered; use previous_response_id"),
    "prompt": ("refused", "stored prompt templates are not offered"),
    "prompt_cache_key": ("refused", "provider prompt-cache hints are not offered"),
    "prompt_cache_retention": ("refused", "provider prompt-cache hints are not offered"),
    "prompt_cache_options": ("refused", "provider prompt-cache hints are not offered"),
    "service_tier": ("refused", "service tiers are not offered"),
    "top_logprobs": ("refused", "log probabilities are not offered"),
    "max_tool_calls": ("refused", "hosted tool call limits are not offered (no hosted tools)"),
    "stream_options": ("refused", "stream obfuscation options are not offered"),
    "context_management": ("refused", "server-side context compaction is not offered"),
    "moderation": ("refused", "per-request moderation settings are not offered"),
    "access_programs": ("refused", "OpenAI access programs are not offered"),
    "background_options": ("refused", "background responses are not offered"),
    "image": ("refused", "image generation settings belong to /v1/images/generations"),
}
_ALLOWED: dict[str, Callable[[Any], bool]] = {
    "reasoning": lambda v: v.summary is None and v.generate_summary is None,
    "include": lambda v: v == [],
    "truncation": lambda v: v == "disabled",
    "background": lambda v: v is False,
}
_ITEMS: dict[str, TypeAdapter[Any]] = {
    "message": TypeAdapter(MessageItem), "function_call": TypeAdapter(FunctionCallItem),
    "function_call_output": TypeAdapter(FunctionCallOutputItem)}
_TOOL = TypeAdapter(FunctionToolIn)


def refuse(body: ResponseCreateIn) -> None:
    """400 naming the first refused field sent (null is "not sent") or a limited one's refused value."""
    for name in body.model_fields_set:
        value = getattr(body, name)
        status, why = RESPONSE_FIELDS[name]
        if value is None or status == "honoured" or (status == "limited" and _ALLOWED[name](value)):
            continue
        raise BadRequest(f"`{name}` is not supported: {why}.", param=name)


_TAGS = {"str", "input_text", "input_image", "output_text", "refusal"}  # union members, not places


def _checked(adapter: TypeAdapter[Any], value: Any, param: str) -> Any:
    """`value` validated, else a 400 naming the exact place (`input[2].content[0].text`)."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        first = max(exc.errors(), key=lambda error: len(error["loc"]))  # the deepest: the union member meant
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]
                        if isinstance(p, int) or (p.isidentifier() and p not in _TAGS))
        raise BadRequest(f"{param + where}: {first['msg']}", param=param + where) from None


def _part(part: BaseModel, param: str) -> dict[str, Any]:
    if isinstance(part, InputImagePart):
        if part.file_id is not None or part.image_url is None:
            raise BadRequest("Images are sent as `image_url` (a data: URL, an https URL or "
                             "muse://images/img_…); file ids are not offered.", param=param)
        return {"type": "image_url", "image_url": {"url": part.image_url, "detail": part.detail}}
    if isinstance(part, InputTextPart | OutputTextPart):
        return {"type": "text", "text": part.text}
    return {"type": "text", "text": part.refusal}  # type: ignore[attr-defined]  # a RefusalPart


def _content(content: str | list[Any], param: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    return [_part(part, f"{param}[{index}]") for index, part in enumerate(content)]


def _item(raw: BaseModel | dict[str, Any], index: int) -> BaseModel:
    if isinstance(raw, BaseModel):
        return raw
    kind = raw.get("type", "message")
    adapter = _ITEMS.get(kind) if isinstance(kind, str) else None
    if adapter is None:
        raise BadRequest(f"Input items of type {kind!r} are not supported; send message, function_call "
                         "and function_call_output items.", param=f"input[{index}].type")
    return _checked(adapter, raw, f"input[{index}]")  # type: ignore[no-any-return]


def input_messages(items: str | list[Any]) -> list[dict[str, Any]]:
    """The input as chat-completions messages: consecutive function calls join one assistant turn."""
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    messages: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        item = _item(raw, index)
        if isinstance(item, FunctionCallItem):
            call = {"id": item.call_id, "type": "function",
                    "function": {"name": item.name, "arguments": item.arguments}}
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif isinstance(item, FunctionCallOutputItem):
            output = item.output if isinstance(item.output, str) else "".join(p.text for p in item.output)
            messages.append({"role": "tool", "tool_call_id": item.call_id, "content": output})
        elif isinstance(item, MessageItem):
            content = _content(item.content, f"input[{index}].content")
            if item.role == "assistant" and isinstance(content, list):
                content = "".join(part.get("text", "") for part in content)
            messages.append({"role": item.role, "content": content})
    return messages


def _tools(body: ResponseCreateIn) -> list[dict[str, Any]]:
    tools = []
    for index, raw in enumerate(body.tools or ()):
        if isinstance(raw, dict) and raw.get("type") != "function":
            raise BadRequest(f"The hosted tool {raw.get('type')!r} is not offered; send function tools.",
                             param=f"tools[{index}].type")
        tool = raw if isinstance(raw, FunctionToolIn) else _checked(_TOOL, raw, f"tools[{index}]")
        function = tool.model_dump(exclude={"type"}, exclude_none=True)
        tools.append({"type": "function", "function": function})
    return tools


def _tool_choice(choice: str | FunctionChoice | dict[str, Any] | None) -> str | dict[str, Any] | None:
    if choice is None or isinstance(choice, str):
        return choice
    if isinstance(choice, FunctionChoice):
        return {"type": "function", "function": {"name": choice.name}}
    if choice.get("type") == "function" and isinstance(choice.get("name"), str) and set(choice) == {
            "type", "name"}:
        return {"type": "function", "function": {"name": choice["name"]}}
    raise BadRequest(f"tool_choice {choice.get('type')!r} is not offered; choose auto, none, required or "
                     "{\"type\": \"function\", \"name\": …}.", param="tool_choice")


def chat_request(body: ResponseCreateIn, history: list[dict[str, Any]]) -> dict[str, Any]:
    """The chat-completions body a Responses request means (instructions, history, then the input)."""
    messages = [{"role": "system", "content": body.instructions}] if body.instructions else []
    messages += history
    messages += input_messages(body.input)
    chat: dict[str, Any] = {"model": body.model, "messages": messages}
    if body.tools:
        chat["tools"] = _tools(body)
    optional = {"tool_choice": _tool_choice(body.tool_choice),
                "parallel_tool_calls": body.parallel_tool_calls,
                "max_completion_tokens": body.max_output_tokens, "temperature": body.temperature,
                "top_p": body.top_p, "user": body.user, "safety_identifier": body.safety_identifier,
                "reasoning_effort": body.reasoning.effort if body.reasoning else None}
    if body.text is not None:
        form = body.text.format
        if form is not None and form.type == "json_object":
            optional["response_format"] = {"type": "json_object"}
        elif form is not None and form.type == "json_schema":
            spec = {"name": form.name, "schema": form.schema_, "strict": bool(form.strict)}
            if form.description is not None:
                spec["description"] = form.description
            optional["response_format"] = {"type": "json_schema", "json_schema": spec}
        optional["verbosity"] = body.text.verbosity
    chat.update({name: value for name, value in optional.items() if value is not None})
    return chat
