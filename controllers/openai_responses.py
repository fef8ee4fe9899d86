"""OpenAI's Responses API under /v1 (contract §12): a translation onto the one chat path.

`POST /v1/responses` is turned into the chat-completions request it means (instructions and the
stored history of `previous_response_id` first, then the input items; function tools, tool choice,
`text.format`, sampling) and answered by the same `ChatService` / `ChatStreamService` as
`/v1/chat/completions` (credits, cache, failover, breaker, refunds, the fidelity rules of §18).
The answer is a `response` object, or OpenAI's typed stream events. With `store` (the default) the
answer and its history are kept for `previous_response_id`, `GET` and `DELETE`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import orjson
from pydantic import ValidationError
from quart import Response

from controllers.openai_api import Answer, OpenAIController, event_stream, muse_headers
from controllers.openai_errors import error_body
from controllers.responses_request import chat_request, refuse
from controllers.schemas.openai import ChatCompletionIn
from controllers.schemas.responses import ResponseCreateIn
from services.chat.models import ChatInput
from services.chat.openai_compat import estimate_usage, usage_of
from services.chat.options import ToolCall
from services.chat.ports import StoredResponse
from services.chat.responses import ResponseLog
from services.chat.service import ChatService
from services.chat.stream import ChatStreamService
from services.platform.clock import utcnow
from services.platform.errors import AppError, BadRequest
from services.platform.ids import new_id
from services.platform.principal import Principal


def _message_item(text: str, *, status: str = "completed") -> dict[str, Any]:
    return {"type": "message", "id": new_id("msg"), "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
            if status == "completed" else []}


def _call_item(call: ToolCall, *, status: str = "completed") -> dict[str, Any]:
    return {"type": "function_call", "id": new_id("fc"), "call_id": call.id, "name": call.name,
            "arguments": call.arguments if status == "completed" else "", "status": status}


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion}


def _sse(event: dict[str, Any]) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


class ResponsesController:
    """HTTP ⇄ the chat services in the Responses API's shapes, and the caller's stored responses."""

    def __init__(self, openai: OpenAIController, chat: ChatService, streams: ChatStreamService,
                 log: ResponseLog, *, status_of: Callable[[AppError], int]) -> None:
        self._openai, self._chat, self._streams, self._log = openai, chat, streams, log
        self._status_of = status_of

    async def create(self, body: ResponseCreateIn, principal: Principal,
                     request_id: str) -> Answer | Response:
        """A `response` object, or its typed stream events."""
        refuse(body)
        user_id = principal.require_user_id()
        history: list[dict[str, Any]] = []
        if body.previous_response_id:
            previous = await self._log.get(user_id, body.previous_response_id, param="previous_response_id")
            history = previous.history
        chat = chat_request(body, history)
        try:
            parsed = ChatCompletionIn.model_validate(chat)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise BadRequest(f"The input cannot be answered: {first['msg']}.", param="input") from None
        inp = await self._openai.chat_input(parsed, principal, request_id)
        # what a continuation sends before its input: not these instructions (as OpenAI does)
        draft = _Draft(body, kept=chat["messages"][1 if body.instructions else 0:])
        if body.stream:
            return await self._stream(draft, inp, user_id)
        reply = await self._chat.complete(inp)
        usage = usage_of(reply.usage, [(m.role, m.content) for m in inp.messages], reply.content)
        output = ([_message_item(reply.content)] if reply.content or not reply.tool_calls else [])
        output += [_call_item(call) for call in reply.tool_calls]
        answer = draft.finished(output, reply.finish_reason,
                                _usage(usage.prompt_tokens, usage.completion_tokens))
        await self._keep(draft, answer, user_id, reply.content, reply.tool_calls)
        return answer, 200, muse_headers(charged=reply.credits_charged, cached=reply.cached,
                                         provider=reply.provider)

    async def retrieve(self, principal: Principal, response_id: str) -> dict[str, Any]:
        """The caller's stored response."""
        return (await self._log.get(principal.require_user_id(), response_id)).body

    async def delete(self, principal: Principal, response_id: str) -> dict[str, Any]:
        """Delete the caller's stored response."""
        await self._log.delete(principal.require_user_id(), response_id)
        return {"id": response_id, "object": "response", "deleted": True}

    async def _keep(self, draft: _Draft, answer: dict[str, Any], user_id: str, content: str,
                    calls: tuple[ToolCall, ...]) -> None:
        if draft.body.store is False:
            return
        reply: dict[str, Any] = {"role": "assistant", "content": content or None}
        if calls:
            reply["tool_calls"] = [call.as_dict() for call in calls]
        await self._log.keep(StoredResponse(id=answer["id"], user_id=user_id, created_at=utcnow(),
                                            body=answer, history=[*draft.kept, reply]))

    async def _stream(self, draft: _Draft, inp: ChatInput, user_id: str) -> Response:
        meta, events = await self._streams.stream(inp)
        prompt = [(m.role, m.content) for m in inp.messages]

        async def stream() -> AsyncIterator[bytes]:
            emit = _Emitter()
            yield emit("response.created", response=draft.snapshot("in_progress", []))
            yield emit("response.in_progress", response=draft.snapshot("in_progress", []))
            text: list[str] = []
            calls: list[ToolCall] = []
            finish = "stop"
            async with aclosing(events):  # type: ignore[type-var]
                async for name, data in events:
                    if isinstance(data, AppError):  # the provider broke mid-answer; the charge was refunded
                        for chunk in emit.close_message():
                            yield chunk
                        error = error_body(data, inp.request_id, status=self._status_of(data))["error"]
                        failure = {"code": error["code"], "message": error["message"]}
                        yield emit("response.failed", response=draft.snapshot("failed", emit.output,
                                                                              error=failure))
                        return
                    if name == "delta":
                        for chunk in emit.text_delta(data["content"]):
                            yield chunk
                        text.append(data["content"])
                    elif name == "tool_call":
                        for chunk in emit.close_message():
                            yield chunk
                        call = ToolCall(id=data["id"], name=data["name"], arguments=data["arguments"])
                        calls.append(call)
                        for chunk in emit.function_call(call):
                            yield chunk
                    elif name == "done":
                        finish = data.get("finish_reason", "stop")
            for chunk in emit.close_message():
                yield chunk
            content = "".join(text)
            usage = estimate_usage(prompt, content + "".join(c.name + c.arguments for c in calls))
            answer = draft.finished(emit.output, finish, _usage(usage.prompt_tokens, usage.completion_tokens))
            await self._keep(draft, answer, user_id, content, tuple(calls))
            kind = "response.incomplete" if answer["status"] == "incomplete" else "response.completed"
            yield emit(kind, response=answer)

        return event_stream(stream(), meta)


class _Draft:
    """The response being made: its id, the request's echo fields and the history it will keep."""

    def __init__(self, body: ResponseCreateIn, *, kept: list[dict[str, Any]]) -> None:
        self.body, self.kept = body, kept
        self.id = new_id("resp")
        self.created_at = int(time.time())

    def snapshot(self, status: str, output: list[dict[str, Any]], *, error: dict[str, Any] | None = None,
                 usage: dict[str, Any] | None = None,
                 incomplete: dict[str, Any] | None = None) -> dict[str, Any]:
        """The response object in `status` with `output` so far (OpenAI's fields, the request echoed)."""
        body = self.body
        form: dict[str, Any] = {"type": "text"}
        if body.text and body.text.format:
            form = body.text.format.model_dump(by_alias=True, exclude_none=True)
        text_out = output_text(output)
        echo = body.model_dump(mode="json", by_alias=True, include={"tools", "tool_choice"},
                               exclude_none=True)
        return {
            "id": self.id, "object": "response", "created_at": self.created_at, "status": status,
            "background": False, "error": error, "incomplete_details": incomplete,
            "instructions": body.instructions, "max_output_tokens": body.max_output_tokens,
            "model": body.model, "output": output, "output_text": text_out,
            "parallel_tool_calls": body.parallel_tool_calls if body.parallel_tool_calls is not None else True,
            "previous_response_id": body.previous_response_id,
            "reasoning": {"effort": body.reasoning.effort if body.reasoning else None, "summary": None},
            "store": body.store is not False, "temperature": body.temperature, "top_p": body.top_p,
            "text": {"format": form, "verbosity": body.text.verbosity if body.text else None},
            "tool_choice": echo.get("tool_choice", "auto"), "tools": echo.get("tools", []),
            "truncation": "disabled", "usage": usage, "user": body.user,
            "metadata": body.metadata or {},
        }

    def finished(self, output: list[dict[str, Any]], finish: str, usage: dict[str, Any]) -> dict[str, Any]:
        if finish == "length":
            return self.snapshot("incomplete", output, usage=usage,
                                 incomplete={"reason": "max_output_tokens"})
        return self.snapshot("completed", output, usage=usage)


def output_text(output: list[dict[str, Any]]) -> str:
    """The text of the output's message items (the SDKs' `output_text`)."""
    return "".join(part["text"] for item in output if item["type"] == "message"
                   for part in item["content"] if part["type"] == "output_text")


class _Emitter:
    """OpenAI's typed stream events, numbered, and the output items they build."""

    FRAGMENT = 32  # argument text per `response.function_call_arguments.delta`

    def __init__(self) -> None:
        self._sequence = 0
        self.output: list[dict[str, Any]] = []
        self._message: dict[str, Any] | None = None  # the message item being streamed
        self._text: list[str] = []

    def __call__(self, kind: str, **fields: Any) -> bytes:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return _sse(event)

    def text_delta(self, delta: str) -> list[bytes]:
        chunks = []
        if self._message is None:
            self._message = _message_item("", status="in_progress")
            self.output.append(self._message)
            index = len(self.output) - 1
            chunks.append(self("response.output_item.added", output_index=index, item=dict(self._message)))
            chunks.append(self("response.content_part.added", item_id=self._message["id"], output_index=index,
                               content_index=0, part={"type": "output_text", "text": "", "annotations": []}))
            self._text = []
        self._text.append(delta)
        chunks.append(self("response.output_text.delta", item_id=self._message["id"],
                           output_index=self.output.index(self._message), content_index=0, delta=delta,
                           logprobs=[]))
        return chunks

    def close_message(self) -> list[bytes]:
        """The events that finish the message item being streamed (none when there is none)."""
        message = self._message
        if message is None:
            return []
        self._message = None
        index = self.output.index(message)
        text = "".join(self._text)
        part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
        message.update(status="completed", content=[part])
        return [self("response.output_text.done", item_id=message["id"], output_index=index, content_index=0,
                     text=text, logprobs=[]),
                self("response.content_part.done", item_id=message["id"], output_index=index, content_index=0,
                     part=part),
                self("response.output_item.done", output_index=index, item=message)]

    def function_call(self, call: ToolCall) -> list[bytes]:
        item = _call_item(call, status="in_progress")
        self.output.append(item)
        index = len(self.output) - 1
        chunks = [self("response.output_item.added", output_index=index, item=dict(item))]
        for at in range(0, len(call.arguments), self.FRAGMENT):
            chunks.append(self("response.function_call_arguments.delta", item_id=item["id"],
                               output_index=index, delta=call.arguments[at:at + self.FRAGMENT]))
        item.update(arguments=call.arguments, status="completed")
        chunks.append(self("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                           name=call.name, arguments=call.arguments))
        chunks.append(self("response.output_item.done", output_index=index, item=item))
        return chunks
