"""Per-request work done once or not at all (app/speedups.py, middlewares/body.py), Quart's meaning kept.

Driven through the app's ASGI callable, as a server drives it (the test client skips Quart's ASGI layer).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel
from quart import Response, request

from app.speedups import MuseQuart, OrjsonProvider
from middlewares.body import MuseRequest


def make_app() -> MuseQuart:
    app = MuseQuart("speedups")
    app.request_class = MuseRequest

    @app.post("/echo")
    async def echo() -> bytes:
        first = await request.get_data()
        again = await request.get_data(as_text=True)  # cached: the same body
        assert isinstance(first, bytes) and again == first.decode()
        return first

    @app.get("/endless")
    async def endless() -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b"first"
            await asyncio.sleep(3600)
            yield b"never"

        return Response(body())

    return app


async def call(app: MuseQuart, method: str, path: str, parts: list[bytes],
               *, hold_body: bool = False) -> tuple[int, bytes]:
    """One HTTP request through `app`'s ASGI callable; `hold_body`: the client never finishes its body."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/octet-stream")],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    pending = list(parts)
    done = asyncio.Event()
    status, sent = 0, bytearray()

    async def receive() -> dict[str, Any]:
        if pending:
            chunk = pending.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending) or hold_body}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            sent.extend(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    return status, bytes(sent)


async def counting_tasks(run: Callable[[], Awaitable[Any]]) -> tuple[Any, int]:
    """`run()`'s result and the number of tasks created while it ran."""
    loop = asyncio.get_running_loop()
    made = 0
    previous = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        nonlocal made
        made += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    try:
        result = await run()
    finally:
        loop.set_task_factory(previous)
    return result, made


async def test_a_request_runs_in_quarts_receiver_and_handler_tasks_only():
    app = make_app()
    (status, body), tasks = await counting_tasks(lambda: call(app, "POST", "/echo", [b"hello ", b"body"]))
    assert (status, body) == (200, b"hello body")
    # Quart's receiver and handler; no task of its own for awaiting the body or sending the answer
    assert tasks == 2


async def test_the_response_is_still_cut_at_response_timeout():
    app = make_app()
    app.config["RESPONSE_TIMEOUT"] = 0.3
    began = time.monotonic()
    status, body = await asyncio.wait_for(call(app, "GET", "/endless", []), 10)
    assert status == 200 and body == b"first"
    assert time.monotonic() - began < 5


async def test_a_body_that_never_ends_still_answers_408_at_body_timeout():
    app = make_app()
    app.config["BODY_TIMEOUT"] = 0.3
    status, _ = await asyncio.wait_for(call(app, "POST", "/echo", [b"partial"], hold_body=True), 10)
    assert status == 408


class Point(BaseModel):
    x: int
    label: str


@dataclasses.dataclass
class Row:
    b: int
    a: str


def test_orjson_answers_are_the_stdlib_providers_bytes():
    app = MuseQuart("json")
    fast, stdlib = OrjsonProvider(app), DefaultJSONProvider(app)
    when = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    values: list[Any] = [
        {"zeta": 1, "alpha": {"y": [1, 2.5, None, True], "b": "text"}, "when": when},
        {"id": uuid.UUID(int=7), "price": Decimal("1.50"), "row": Row(b=2, a="x"), "empty": {}},
        [{"b": 1, "a": 2}, "plain"],
        {"accented": "café ☕", "b": 1},  # not ASCII: escaped by the stdlib encoder, as before
        {"big": 2**70},  # past orjson's 64 bits
    ]
    for value in values:  # the compact form `response()` asks for
        assert fast.dumps(value, separators=(",", ":")) == stdlib.dumps(value, separators=(",", ":"))
        assert json.loads(fast.dumps(value)) == json.loads(stdlib.dumps(value))
    compact = {"separators": (",", ":")}
    assert fast.dumps({"p": Point(x=1, label="é")}, **compact) == '{"p":{"label":"\\u00e9","x":1}}'
    assert fast.dumps({"p": Point(x=1, label="a")}, **compact) == '{"p":{"label":"a","x":1}}'
    for other in ({}, {"indent": 2}):  # other forms: the stdlib encoder's
        assert fast.dumps({"b": 1, "a": [1]}, **other) == stdlib.dumps({"b": 1, "a": [1]}, **other)
