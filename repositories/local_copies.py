"""In-process copies of Redis cache entries, kept coherent by invalidations pushed over Redis pub/sub.

The Redis caches of users, API keys and sessions (`TombstoneCache`) cost a Redis round trip per
look-up. `LocalCopies` keeps what those look-ups found in this process's memory and answers from
there, on one condition: this process is subscribed to the deployment's invalidation channel.

- Every write that tombstones a Redis entry also PUBLISHes its key, in the same pipeline; each
  process's listener drops that key from its copies as the message arrives (well under a
  millisecond on one host; the two-process test requires 50 ms).
- A write with no Redis entry to tombstone (a credit account, kept only here) `announce`s its key:
  dropped here at once, PUBLISHed once per event-loop turn with every key announced in that turn.
- Copies are used only while the subscription is confirmed. When the connection is lost, the
  copies are dropped and not used; when it is back (subscription confirmed again) they start
  empty. A change made while a process was not listening is therefore never served from a copy.
- A look-up that began before an invalidation arrived never installs what it found (a generation
  number, bumped by every invalidation, is compared): a value read from Redis or MongoDB just
  before a write cannot come back after the write's invalidation.
- Entries also expire with the Redis entry's TTL, and the copies are bounded (least recently
  used first out): neither is what keeps them coherent.

Counts of hits, misses, installs, invalidations and flushes are kept for the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict
from typing import Any

import structlog

from repositories.pubsub import listen

log = structlog.stdlib.get_logger("muse.local_copies")

MAX_ENTRIES = 20_000


class LocalCopies:
    """This process's copies of Redis cache entries, by their full Redis key."""

    def __init__(self, redis: Any, *, channel: str, ttl_s: float = 60.0, max_entries: int = MAX_ENTRIES,
                 ready_timeout_s: float = 2.0) -> None:
        self._redis, self.channel = redis, channel
        self._ttl, self._max = ttl_s, max_entries
        self._ready_timeout_s = ready_timeout_s
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self.generation = 0
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._announced: set[str] = set()  # keys to PUBLISH at the end of this event-loop turn
        self._announcing: asyncio.Task[None] | None = None
        self.counts = {"hit": 0, "miss": 0, "install": 0, "invalidation": 0, "flush": 0}
        self.received = 0  # invalidation messages this process's listener received (tests, debugging)

    @property
    def ready(self) -> bool:
        """Listening: the invalidation channel's subscription is confirmed."""
        return self._ready.is_set()

    # --- look-ups ----------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        """The copy of `key`, or None (absent, expired, or not listening)."""
        if not self.ready:
            return None
        entry = self._entries.get(key)
        if entry is None or entry[1] < time.monotonic():
            self.counts["miss"] += 1
            return None
        self._entries.move_to_end(key)
        self.counts["hit"] += 1
        return entry[0]

    def install(self, key: str, value: bytes, since: int) -> None:
        """Keep `value` for `key` when no invalidation arrived since generation `since` was read."""
        if not self.ready or since != self.generation:
            return
        self._entries[key] = (value, time.monotonic() + self._ttl)
        self._entries.move_to_end(key)
        self.counts["install"] += 1
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def drop(self, keys: list[str], *, counted: bool = True) -> None:
        """Forget `keys` (an invalidation, received or made here)."""
        self.generation += 1
        for key in keys:
            self._entries.pop(key, None)
        if counted:
            self.counts["invalidation"] += len(keys)

    def announce(self, keys: list[str]) -> None:
        """Drop `keys` here and tell every process, for a write that keeps no Redis entry to tombstone
        (the credit accounts): one PUBLISH per event-loop turn for every key announced in it."""
        self.drop(keys)
        self._announced.update(keys)
        loop = asyncio.get_running_loop()
        task = self._announcing
        if task is None or task.done() or task.get_loop() is not loop:
            self._announcing = loop.create_task(self._publish_announced())

    async def _publish_announced(self) -> None:
        await asyncio.sleep(0)  # the keys announced in this turn of the loop: one message
        while self._announced:
            keys, self._announced = sorted(self._announced), set()
            try:
                await self._redis.publish(self.channel, encode_keys(keys))
            except Exception as exc:  # noqa: BLE001 - Redis down: the other processes' listeners are
                # down too, and a process not listening neither keeps nor uses copies
                log.warning("local_copies_publish_failed", keys=len(keys), error=type(exc).__name__)
            self.drop(keys, counted=False)  # a look-up that raced the publish keeps nothing

    def _flush(self) -> None:
        self.generation += 1
        self._entries.clear()
        self.counts["flush"] += 1

    # --- the listener ------------------------------------------------------------------------

    def start(self) -> None:
        """Start listening (idempotent); copies are used once the subscription is confirmed."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="local-copies")

    async def wait_ready(self, timeout_s: float) -> bool:
        """True once listening (tests, start-up)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._ready.wait()
        return self.ready

    async def _listen(self) -> None:
        # whatever happens while not listening: copies are not used, and start empty once listening again
        await listen(self._redis, self.channel, ready=self._ready, confirm_s=self._ready_timeout_s,
                     on_message=self._invalidate, on_connected=lambda _reconnected: self._flush(),
                     on_lost=self._flush, log=log, lost_event="local_copies_connection_lost")

    def _invalidate(self, data: Any) -> None:
        self.received += 1
        keys = _keys(data)
        if keys is None:  # unreadable: whatever it invalidated, drop everything
            self._flush()
        else:
            self.drop(keys)

    async def published(self) -> None:
        """Wait (at most 2 s) until what was announced in this event loop is published."""
        announcing, loop = self._announcing, asyncio.get_running_loop()
        if announcing is not None and not announcing.done() and announcing.get_loop() is loop:
            await asyncio.wait({announcing}, timeout=2.0)

    async def aclose(self) -> None:
        await self.published()  # what is announced still reaches the other processes
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=2.0)  # bounded (a CLI's stop hung on it)
        self._task = None
        self._ready.clear()
        self._flush()


def _keys(data: Any) -> list[str] | None:
    try:
        keys = json.loads(data)
    except ValueError:
        keys = None
    if not isinstance(keys, list):
        log.warning("local_copies_bad_message")
        return None
    return [str(key) for key in keys]


def encode_keys(keys: list[str]) -> str:
    """One message for several keys."""
    return json.dumps(keys)
