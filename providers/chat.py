"""The chat provider port: what the chat service (and image describe) needs from an LLM.

Adapters (`gemini_chat`, `openai_chat`, `local_chat`) map their SDK's errors
onto the two exception classes below; the service turns them into
`UpstreamError` / `UpstreamTimeout` once every provider has failed.
"""

# ruff: noqa: ASYNC109  (the port's `timeout` is also handed to the SDK, not only awaited)
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a conversation."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ChatCompletion:
    """A whole answer from one provider."""

    content: str
    provider: str
    model: str
    usage: tuple[int, int] | None = None  # (prompt, completion) tokens, when the provider reports them


class ProviderError(Exception):
    """A provider could not answer (error, 429, 5xx, broken stream); the next one may."""

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status


class ProviderTimeout(ProviderError):
    """A provider did not answer within the timeout."""


@runtime_checkable
class ChatProvider(Protocol):
    """A chat LLM. `name` is what clients see as `provider`; `model` the model it calls."""

    name: str
    model: str

    async def complete(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None,
    ) -> ChatCompletion:
        """The whole answer to `messages` (system turns become the system prompt).

        `model` overrides the provider's configured model for this call (premium models)."""
        ...

    def stream(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None,
    ) -> AsyncIterator[str]:
        """The answer as text deltas; `timeout` bounds the wait for each chunk."""
        ...

    async def describe_image(
        self, image: bytes, *, mime: str, instruction: str, timeout: float, request_id: str | None
    ) -> ChatCompletion:
        """A text answer about one image (vision)."""
        ...

    async def aclose(self) -> None:
        """Release the SDK's connections."""
        ...


def split_system(messages: list[ChatMessage]) -> tuple[str | None, list[ChatMessage]]:
    """The joined system prompt and the remaining turns."""
    system = [m.content for m in messages if m.role == "system"]
    turns = [m for m in messages if m.role != "system"]
    return ("\n\n".join(system) if system else None), turns


ErrorMap = Callable[[Exception], Exception]


async def with_timeout(provider: str, timeout: float, call: Callable[[], Awaitable[T]],
                       *, map_error: ErrorMap | None = None) -> T:
    """Run `call` bounded by `timeout`: expiry → ProviderTimeout, other failures through `map_error`."""
    try:
        async with asyncio.timeout(timeout):
            return await call()
    except TimeoutError as exc:
        raise ProviderTimeout(provider, f"no answer within {timeout:g}s") from exc
    except Exception as exc:
        if map_error is None:
            raise
        raise map_error(exc) from exc


async def timed_stream(provider: str, timeout: float, source: AsyncIterator[str],
                       *, map_error: ErrorMap | None = None) -> AsyncIterator[str]:
    """Yield from `source`: a chunk slower than `timeout` → ProviderTimeout, failures through `map_error`."""
    iterator = aiter(source)
    try:
        while True:
            try:
                async with asyncio.timeout(timeout):
                    chunk = await anext(iterator)
            except StopAsyncIteration:
                return
            except TimeoutError as exc:
                raise ProviderTimeout(provider, f"stream stalled for {timeout:g}s") from exc
            if chunk:
                yield chunk
    except Exception as exc:
        if map_error is None or isinstance(exc, ProviderTimeout):
            raise
        raise map_error(exc) from exc
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:  # noqa: BLE001 - the stream is already broken; closing must not mask it
                pass
