"""Helpers shared by the chat adapters: system-prompt split, per-call and per-chunk timeouts.

The port itself (messages, completions, errors, `ChatProvider`) is `services/chat/ports.py`.
"""

# ruff: noqa: ASYNC109  (the `timeout` is a per-call budget handed down, not only awaited)
from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

from services.chat.ports import ChatMessage, Delta, LimitReached, ProviderTimeout

T = TypeVar("T")


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


async def timed_stream(provider: str, timeout: float, source: AsyncIterator[Delta],
                       *, map_error: ErrorMap | None = None) -> AsyncGenerator[Delta, None]:
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
            if chunk or isinstance(chunk, LimitReached):  # an empty LimitReached still marks the end
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
