"""Offline, deterministic chat for `make run` without AI keys (always provider `local`)."""

# ruff: noqa: ASYNC109  (the port's `timeout` is also handed to the SDK, not only awaited)
from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator

from providers.local_json import example_of
from services.chat.openai_compat import CHARS_PER_TOKEN, estimate_tokens
from services.chat.options import NO_OPTIONS, ChatOptions, ToolCall
from services.chat.ports import ChatCompletion, ChatMessage, Delta, LimitReached

NAME = "local"


class LocalChatProvider:
    """Answers from the conversation itself: same input, same answer, no network."""

    name = NAME
    model = "local-echo"

    def __init__(self, *, chunk_delay_s: float = 0.0) -> None:
        self._delay = chunk_delay_s

    @staticmethod
    def unsupported(options: ChatOptions) -> str | None:
        """`logprobs` (no model, no probabilities); every other option is honoured: the answer is
        deterministic, so sampling options cannot change it; tools, stop sequences and JSON are."""
        return "logprobs" if options.logprobs else None

    @staticmethod
    def _digest(messages: list[ChatMessage]) -> str:
        text = "\n".join(f"{m.role}:{m.content}" + "".join(f":{i.sha256}" for i in m.images)
                         + "".join(f":{c.name}{c.arguments}" for c in m.tool_calls) for m in messages)
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def _answer(self, messages: list[ChatMessage], options: ChatOptions = NO_OPTIONS) -> str:
        digest = self._digest(messages)
        results = []
        for m in reversed(messages):  # the tool results after the last user turn
            if m.role != "tool":
                break
            results.append(f"{m.name or m.tool_call_id}: {' '.join(m.content.split())[:200]}")
        last = next((m for m in reversed(messages) if m.role == "user"), None)
        snippet = " ".join((last.content if last else "").split())[:200]
        seen = len(last.images) if last else 0
        saw = f" I saw {seen} image{'s' if seen != 1 else ''}." if seen else ""
        if results:
            text = f"[local {digest}] The tools answered: " + "; ".join(reversed(results))
        elif snippet:
            text = f"[local {digest}] You said: {snippet}{saw}"
        else:
            text = f"[local {digest}]{saw}" if saw else f"[local {digest}] Hello!"
        for stop in options.stop:  # the answer ends before the first stop sequence, as providers do
            text = text.split(stop, 1)[0]
        form = options.response_format
        if form is not None:
            schema = form.schema if form.type == "json_schema" else None
            return json.dumps(example_of(schema, text=text) if schema else {"answer": text})
        return text

    def _tool_call(self, messages: list[ChatMessage], options: ChatOptions) -> ToolCall | None:
        """A call to the named (or first) tool, unless a tool result already follows the last user turn."""
        if not options.tools or options.tool_choice == "none" or (messages and messages[-1].role == "tool"):
            return None
        tool = options.forced_tool() or options.tools[0]
        last = next((m.content for m in reversed(messages) if m.role == "user"), "")
        arguments = example_of(tool.parameters or {"type": "object"}, text=" ".join(last.split())[:60])
        return ToolCall(id=f"call_local_{self._digest(messages)}", name=tool.name,
                        arguments=json.dumps(arguments if isinstance(arguments, dict) else {}))

    @staticmethod
    def _limited(answer: str, max_tokens: int | None) -> tuple[str, bool]:
        """`answer` cut to about `max_tokens` tokens (the /v1 usage estimate), and whether it was cut."""
        if max_tokens is None or estimate_tokens(answer) <= max_tokens:
            return answer, False
        return answer[:max_tokens * CHARS_PER_TOKEN].rstrip() or answer[:1], True

    async def complete(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None, max_tokens: int | None = None,
        options: ChatOptions = NO_OPTIONS,
    ) -> ChatCompletion:
        """The deterministic answer (cut to `max_tokens`: finish reason "length"), or a tool call."""
        call = self._tool_call(messages, options)
        if call is not None:
            return ChatCompletion(content="", provider=NAME, model=self.model, finish_reason="tool_calls",
                                  tool_calls=(call,))
        answer, limited = self._limited(self._answer(messages, options), max_tokens)
        return ChatCompletion(content=answer, provider=NAME, model=self.model,
                              finish_reason="length" if limited else "stop")

    async def stream(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None, max_tokens: int | None = None,
        options: ChatOptions = NO_OPTIONS,
    ) -> AsyncIterator[Delta]:
        """The deterministic answer, word by word (the last piece `LimitReached` when cut), or a tool call."""
        call = self._tool_call(messages, options)
        if call is not None:
            yield call
            return
        answer, limited = self._limited(self._answer(messages, options), max_tokens)
        pieces = re.findall(r"\S+\s*", answer)
        for index, piece in enumerate(pieces):
            if self._delay:
                await asyncio.sleep(self._delay)
            yield LimitReached(piece) if limited and index == len(pieces) - 1 else piece

    async def describe_image(
        self, image: bytes, *, mime: str, instruction: str, timeout: float, request_id: str | None
    ) -> ChatCompletion:
        """A deterministic description naming the size and type."""
        digest = hashlib.sha256(image).hexdigest()[:8]
        text = f"[local {digest}] An image ({mime}, {len(image)} bytes). {instruction[:200]}".strip()
        return ChatCompletion(content=text, provider=NAME, model=self.model)

    async def aclose(self) -> None:
        """Nothing to release."""
