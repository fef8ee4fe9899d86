"""Base of the chat wire fakes (Gemini, OpenAI): an aiohttp.web server on 127.0.0.1 in its own thread.

Running in its own thread and event loop, a fake keeps answering while the
test's loop is busy, can hang without blocking the app, and also serves the
benchmark. Subclasses register routes in `setup(app)`; tests steer behaviour:

    fake.mode = "ok" | "429" | "500" | "503" | "hang" | "drop" | "cut"   # default for every call
    (FakeOpenAI also: "garbled", 200 with JSON that is not the API's shape)
                                     # drop: protocol error (connection reset) part-way through a stream
                                     # cut: clean close without the end marker (a JSON answer without
                                     #      finish_reason / finishReason when not streaming)
    fake.cut_after = 0               # pieces streamed before drop/cut (None: half the reply, at least 1)
    fake.script = ["503", "ok"]      # one mode per call, consumed first (then `mode`)
    fake.delay_s = 0.2               # wait before answering (coalescing tests)
    fake.chunk_delay_s = 0.01        # pause between streamed chunks
    fake.json_reply = "not json"     # the answer of JSON-mode requests (None: JSON fitting their schema)
    fake.calls                       # list of Call(path, body, headers), one per request
                                     # (tests assert on it that a parameter reached the provider)
    fake.streams_left                # streams whose client closed the connection before their end
    Tools: a request with tools is answered with a call (see tests/fakes/chat_semantics.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

MODES = ("ok", "429", "500", "503", "hang", "drop", "cut")


@dataclass
class Call:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


class AiohttpWireFake:
    """Start with `start()` (returns self); `url` is the base URL; `stop()` ends it."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.script: deque[str] = deque()
        self.delay_s = 0.0
        self.chunk_delay_s = 0.0
        self.hang_s = 60.0
        self.cut_after: int | None = None
        self.json_reply: str | None = None  # the answer of JSON-mode requests (None: JSON fitting the schema)
        self.calls: list[Call] = []
        self.streams_left = 0
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    # --- to override ------------------------------------------------------------------------
    def setup(self, app: web.Application) -> None:
        """Register routes."""
        raise NotImplementedError

    # --- helpers for handlers ---------------------------------------------------------------
    async def record(self, request: web.Request) -> tuple[Call, str]:
        """Parse and remember the request; the mode it must be answered with."""
        try:
            body = await request.json()
        except Exception:  # noqa: BLE001 - not every request is JSON
            body = {}
        call = Call(path=request.path, body=body, headers=dict(request.headers))
        self.calls.append(call)
        mode = self.script.popleft() if self.script else self.mode
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if mode == "hang":
            await self.hang()
        return call, mode

    async def hang(self) -> None:
        """Wait until the client gives up (or the fake stops)."""
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), self.hang_s)
        except TimeoutError:
            pass

    @staticmethod
    def drop(request: web.Request) -> None:
        """Cut the connection without finishing the response."""
        if request.transport is not None:
            request.transport.close()

    def cut_at(self, pieces: int) -> int:
        """How many pieces a "drop"/"cut" stream sends before it breaks off."""
        return self.cut_after if self.cut_after is not None else max(1, pieces // 2)

    def count(self, path_part: str = "") -> int:
        """Calls whose path contains `path_part`."""
        return sum(1 for c in self.calls if path_part in c.path)

    def reset(self) -> None:
        """Forget calls and go back to answering normally."""
        self.calls.clear()
        self.script.clear()
        self.mode, self.delay_s, self.chunk_delay_s, self.cut_after = "ok", 0.0, 0.0, None
        self.json_reply = None
        self.streams_left = 0

    async def stream_pieces(self, request: web.Request, mode: str, pieces: list[str],
                            chunk: Callable[[int, str], bytes],
                            tail: Callable[[web.StreamResponse], Awaitable[None]] | None = None
                            ) -> web.StreamResponse:
        """A streamed answer: each piece as `chunk(index, piece)` makes it, then `tail` (the end
        marker, usage). `drop` and `cut` end it after `cut_at` pieces without that end; a client
        that closes the connection before the end is counted in `streams_left`."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for index, piece in enumerate(pieces):
                if mode in ("drop", "cut") and index >= self.cut_at(len(pieces)):
                    await asyncio.sleep(0.05)
                    if mode == "drop":
                        self.drop(request)  # protocol error: the body ends mid-chunk-stream
                    else:
                        await response.write_eof()  # clean close, without the end marker
                    return response
                if self.chunk_delay_s:
                    await asyncio.sleep(self.chunk_delay_s)
                await response.write(chunk(index, piece))
            if tail is not None:
                await tail(response)
        except (asyncio.CancelledError, ConnectionResetError):  # the client closed the connection
            self.streams_left += 1
            raise
        await response.write_eof()
        return response

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> AiohttpWireFake:
        """Serve on a free loopback port in a background thread."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._serve())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=32 * 1024 * 1024)
        self.setup(app)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is None:
            return
        loop = self._loop
        loop.call_soon_threadsafe(self._stopping.set)  # type: ignore[union-attr]
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    def __enter__(self) -> AiohttpWireFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
