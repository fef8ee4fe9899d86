"""Offline, deterministic chat for `make run` without AI keys (always provider `local`)."""

# ruff: noqa: ASYNC109  (the port's `timeout` is also handed to the SDK, not only awaited)
from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator

from services.chat.openai_compat import CHARS_PER_TOKEN, estimate_tokens
from services.chat.ports import ChatCompletion, ChatMessage, LimitReached

NAME = "local"


class LocalChatProvider:
    """Answers from the conversation itself: same input, same answer, no network."""

    name = NAME
    model = "local-echo"

    def __init__(self, *, chunk_delay_s: float = 0.0) -> None:
        self._delay = chunk_delay_s

    @staticmethod
    def _answer(messages: list[ChatMessage]) -> str:
        last = next((m for m in reversed(messages) if m.role == "user"), None)
        digest = hashlib.sha256("\n".join(
            f"{m.role}:{m.content}" + "".join(f":{i.sha256}" for i in m.images) for m in messages).encode()
        ).hexdigest()[:8]
        snippet = " ".join((last.content if last else "").split())[:200]
        seen = len(last.images) if last else 0
        saw = f" I saw {seen} image{'s' if seen != 1 else ''}." if seen else ""
        if snippet:
            return f"[local {digest}] You said: {snippet}{saw}"
        return f"[local {digest}]{saw}" if saw else f"[local {digest}] Hello!"

    @staticmethod
    def _limited(answer: str, max_tokens: int | None) -> tuple[str, bool]:
        """`answer` cut to about `max_tokens` tokens (the /v1 usage estimate), and whether it was cut."""
        if max_tokens is None or estimate_tokens(answer) <= max_tokens:
            return answer, False
        return answer[:max_tokens * CHARS_PER_TOKEN].rstrip() or answer[:1], True

    async def complete(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None, max_tokens: int | None = None,
    ) -> ChatCompletion:
        """The deterministic answer (cut to `max_tokens`: finish reason "length")."""
        answer, limited = self._limited(self._answer(messages), max_tokens)
        return ChatCompletion(content=answer, provider=NAME, model=self.model,
                              finish_reason="length" if limited else "stop")

    async def stream(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None, max_tokens: int | None = None,
    ) -> AsyncIterator[str]:
        """The deterministic answer, word by word (the last piece a `LimitReached` when cut)."""
        answer, limited = self._limited(self._answer(messages), max_tokens)
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
