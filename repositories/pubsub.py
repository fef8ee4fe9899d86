"""One Redis pub/sub listener loop, shared by the job events hub and the local copies' invalidations."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

CLOSE_S = 1.0  # closing a lost connection is bounded: a stuck close must not hang a stop
MESSAGE_WAIT_S = 5.0


async def listen(redis: Any, channel: str, *, ready: asyncio.Event, confirm_s: float,
                 on_message: Callable[[Any], None], on_connected: Callable[[bool], None],
                 on_lost: Callable[[], None], log: Any, lost_event: str) -> None:
    """Subscribe to `channel` and hand each message's data to `on_message`, until cancelled.

    `ready` is set while the subscription is confirmed (within `confirm_s`). `on_connected(reconnected)`
    runs once it is, before `ready` is set; `on_lost()` each time the connection ends (and when
    cancelled), after `ready` is cleared. A lost connection is logged (`log`, as `lost_event`) and retried,
    backing off from 0.1 s to 2 s."""
    delay = 0.1
    while True:
        pubsub = redis.pubsub()
        lost: Exception | None = None
        try:
            async with asyncio.timeout(confirm_s):  # connecting, then the request (no socket timeout)
                await pubsub.subscribe(channel)
            first = await pubsub.get_message(timeout=confirm_s)  # the confirmation
            if first is None or first.get("type") != "subscribe":
                raise ConnectionError("no subscription confirmation")
            on_connected(delay > 0.1)
            ready.set()
            delay = 0.1
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=MESSAGE_WAIT_S)
                if message is not None and message.get("type") == "message":
                    on_message(message["data"])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            lost = exc
        finally:
            ready.clear()
            on_lost()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_S):
                    await pubsub.aclose()
        log.warning(lost_event, error=type(lost).__name__, retry_s=delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)
