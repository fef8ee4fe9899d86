"""Server-sent events: one event's bytes, the streamed response, and a resource's status stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, TypeVar

import orjson
from quart import Response

T = TypeVar("T")
KEEP_ALIVE = b": keep-alive\n\n"  # a comment line: proxies keep a quiet stream open


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event (compact UTF-8 JSON by orjson: a few events per streamed answer)."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def stream_response(body: AsyncIterator[bytes]) -> Response:
    """A `text/event-stream` answer: not cached, not buffered by proxies, without a time limit."""
    response = Response(body, content_type="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    response.timeout = None
    return response


async def status_events(changes: AsyncGenerator[T | None, None], render: Callable[[T], dict[str, Any]],
                        *, finished: Callable[[T], bool],
                        key: Callable[[T], object] | None = None) -> AsyncIterator[bytes]:
    """`event: status` with each state `changes` yields (a `None`: a keep-alive line), until a finished
    one; with `key`, a state whose key is the previous one's is not sent again."""
    last: object = KEEP_ALIVE  # no key is this
    async with aclosing(changes) as states:
        async for state in states:
            if state is None:
                yield KEEP_ALIVE
                continue
            if key is None or key(state) != last:
                last = key(state) if key is not None else last
                yield sse("status", render(state))
            if finished(state):
                return
