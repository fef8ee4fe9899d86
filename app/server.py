"""The HTTP server of `python -m app serve`: Uvicorn (httptools, uvloop), one process (issue 12).

Uvicorn served about twice Hypercorn's requests per second and CPU per request here (see
`make bench`). Its own signal handling is replaced by Muse's drain (app/draining.py): on
SIGTERM/SIGINT `GET /health` answers 503 at once, requests in flight (streams to their last
byte) finish within the drain time, then Uvicorn stops listening, gives what is still open
`GRACEFUL_S`, and the ASGI lifespan shutdown (`@app.after_serving`) stops the in-process worker
and the connections. Exit code 0 after a signal; 1 when the server could not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator
from typing import Any

import uvicorn
from quart import Quart

from app.draining import wait_for_shutdown
from app.startup import startup_done

GRACEFUL_S = 2  # after the drain: what is still open is past its time


class _Server(uvicorn.Server):
    """Uvicorn without its signal handlers (Muse's drain installs its own on the loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        startup_done()  # listening: the collector back on


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvloop is a dependency; other platforms may lack it
        return "asyncio"
    return "uvloop"


def config(app: Any, *, host: str, port: int) -> uvicorn.Config:
    """Uvicorn settings: no access log of its own (Muse logs each request); proxy headers are read by
    the app itself (middlewares/client_ip.py, FORWARDED_ALLOW_IPS), not here."""
    return uvicorn.Config(app, host=host, port=port, loop=_loop(), http="httptools", lifespan="on",
                          access_log=False, log_config=None, proxy_headers=False, server_header=False,
                          timeout_graceful_shutdown=GRACEFUL_S, ws="none")


def serve(app: Quart, *, host: str, port: int, drain_s: float) -> int:
    """Serve `app` until a signal and the drain; the process exit code."""
    server = _Server(config(app, host=host, port=port))

    async def main() -> int:
        async def stop_when_drained() -> None:
            await wait_for_shutdown(app.extensions["drain"], drain_s)
            server.should_exit = True

        trigger = asyncio.create_task(stop_when_drained())
        try:
            await server.serve()
        finally:
            trigger.cancel()
        return 0 if server.started else 1

    factory = server.config.get_loop_factory()
    if factory is None:
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())
