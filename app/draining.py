"""Graceful shutdown of the web process (contract §16).

On SIGTERM (or SIGINT) `python -m app serve`:
1. marks the process draining: `GET /health` answers 503 `{"status": "draining"}` at once, so a
   load balancer stops routing new requests here (requests that still arrive are served);
2. waits until no request is in flight (streams count until their last byte) or
   `DRAIN_TIMEOUT_S` (default `AI_TIMEOUT_S`) has passed; a second signal cuts the wait short;
3. then lets Hypercorn close the listeners and the lifespan shutdown stop the in-process
   worker (which drains its jobs the same way) and the connections.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

log = structlog.stdlib.get_logger("muse.draining")

ASGIApp = Callable[[dict[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]],
                   Awaitable[None]]
UNTRACKED_PREFIXES = ("/health",)  # probes do not keep a draining process alive


class Drain:
    """The draining flag and the number of HTTP requests in flight."""

    def __init__(self) -> None:
        self.draining = False
        self.signalled = False  # draining because of a signal (not a test tearing down)
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._hurry = asyncio.Event()

    def enter(self) -> None:
        """A request started."""
        self.in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        """A request ended (its response fully sent, or its connection gone)."""
        self.in_flight -= 1
        if self.in_flight <= 0:
            self.in_flight = 0
            self._idle.set()

    def begin(self, *, signalled: bool = True) -> None:
        """Start draining (idempotent); a second call asks to stop waiting."""
        if self.draining:
            self._hurry.set()
            return
        self.draining, self.signalled = True, signalled

    async def wait_idle(self, timeout_s: float) -> bool:
        """True when no request is in flight within `timeout_s` (False: time ran out or hurried)."""
        idle = asyncio.ensure_future(self._idle.wait())
        hurry = asyncio.ensure_future(self._hurry.wait())
        try:
            await asyncio.wait({idle, hurry}, timeout=max(0.0, timeout_s),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            idle.cancel()
            hurry.cancel()
        return self.in_flight == 0


def track_in_flight(asgi_app: ASGIApp, drain: Drain) -> ASGIApp:
    """Wrap the ASGI app so every HTTP request (but health probes) counts as in flight until it ends."""

    async def app(scope: dict[str, Any], receive: Callable[..., Awaitable[Any]],
                  send: Callable[..., Awaitable[Any]]) -> None:
        if scope.get("type") != "http" or str(scope.get("path", "")).startswith(UNTRACKED_PREFIXES):
            await asgi_app(scope, receive, send)
            return
        drain.enter()
        try:
            await asgi_app(scope, receive, send)
        finally:
            drain.leave()

    return app


async def wait_for_shutdown(drain: Drain, drain_s: float) -> None:
    """Hypercorn's shutdown trigger: return once a signal came and the requests in flight are done."""
    loop = asyncio.get_running_loop()
    signalled = asyncio.Event()

    def on_signal(signum: int) -> None:
        if drain.draining:
            log.warning("drain_cut_short", signal=signal.Signals(signum).name)
        drain.begin()
        signalled.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    await signalled.wait()
    started = time.monotonic()
    log.info("draining", in_flight=drain.in_flight, drain_s=drain_s)
    idle = await drain.wait_idle(drain_s)
    log.info("drained", idle=idle, in_flight=drain.in_flight,
             waited_ms=round((time.monotonic() - started) * 1000, 1))
