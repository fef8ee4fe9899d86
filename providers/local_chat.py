"""Offline, deterministic chat for `make run` without AI keys (always provider `local`)."""

# ruff: noqa: ASYNC109  (the port's `timeout` is also handed to the SDK, not only awaited)
from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator

from services.ports.chat import ChatCompletion, ChatMessage

NAME = "local"


class LocalChatProvider:
    """Answers from the conversation itself: same input, same answer, no network."""

    name = NAME
    model = "local-echo"

    def __init__(self, *, chunk_delay_s: float = 0.0) -> None:
        self._delay = chunk_delay_s

    @staticmethod
    def _answer(messages: list[ChatMessage]) -> str:
        last = next((m.content for m in reversed(messages) if m.role == "user"), "")
        digest = hashlib.sha256("\n".join(f"{m.role}:{m.content}" for m in messages).encode()).hexdigest()[:8]
        snippet = " ".join(last.split())[:200]
        return f"[local {digest}] You said: {snippet}" if snippet else f"[local {digest}] Hello!"

    async def complete(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None,
    ) -> ChatCompletion:
        """The deterministic answer."""
        return ChatCompletion(content=self._answer(messages), provider=NAME, model=self.model)

    async def stream(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None,
    ) -> AsyncIterator[str]:
        """The deterministic answer, word by word."""
        for piece in re.findall(r"\S+\s*", self._answer(messages)):
            if self._delay:
                await asyncio.sleep(self._delay)
            yield piece

    async def describe_image(
        self, image: bytes, *, mime: str, instruction: str, timeout: float, request_id: str | None
    ) -> ChatCompletion:
        """A deterministic description naming the size and type."""
        digest = hashlib.sha256(image).hexdigest()[:8]
        text = f"[local {digest}] An image ({mime}, {len(image)} bytes). {instruction[:200]}".strip()
        return ChatCompletion(content=text, provider=NAME, model=self.model)

    async def aclose(self) -> None:
        """Nothing to release."""
