"""Job events over Redis pub/sub: one channel per deployment, one subscriber connection per process.

`publish` hands `{"t": topic, "id": job_id, "p": payload}` to this process's publisher, which
sends each as one `PUBLISH` on the deployment's channel, in order, in the background: a job
never waits on Redis to report progress (a hung Redis costs the submission or the job nothing).
A PUBLISH that fails is tried again, backing off from 0.1 s to 2 s, for up to `retry_for_s` after
the change was queued (the later changes wait behind it, so their order holds): a Redis that fails
for a moment, or fails fast for its guard's cool-down, delays a change instead of losing it (a lost
final change left a listener waiting until its deadline). A retried PUBLISH whose first answer was
lost may arrive twice; a change is the record as it is, so a repeat is harmless. What is still
unsent after `retry_for_s` is dropped and logged; listeners re-read at their deadline.

A process that listens keeps ONE pub/sub connection (started by its first `subscribe`, whatever
the number of waiting requests) and hands each message to the local subscriptions of that job.
When that connection is lost, the hub reconnects (backing off) and tells every local subscription
`RESYNC`: a message may have been missed, re-read the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import structlog
from redis.asyncio import Redis

from repositories.pubsub import listen
from services.media.ports.job_events import RESYNC

log = structlog.stdlib.get_logger("muse.job_events")

QUEUE_SIZE = 64  # a job has a handful of changes; a stuck reader loses the oldest, then resyncs
OUTBOX_SIZE = 1000  # changes waiting to be published while Redis is slow (the oldest are dropped)
FLUSH_S = 1.0  # how long closing waits for the changes still to publish
CLOSE_S = 2.0  # then how long for the listener and the publisher to stop
RETRY_FOR_S = 30.0  # how long a change that could not be published is tried again


class _Subscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)

    def put(self, payload: str) -> None:
        if self.queue.full():  # never block the hub: drop the oldest and ask for a re-read
            self.queue.get_nowait()
            payload = RESYNC
        self.queue.put_nowait(payload)

    async def next(self, timeout_s: float) -> str | None:
        try:
            async with asyncio.timeout(max(0.0, timeout_s)):
                return await self.queue.get()
        except TimeoutError:
            return None


class RedisJobEvents:
    """`JobEvents` on Redis pub/sub (`channel` per deployment)."""

    def __init__(self, redis: Redis, *, channel: str, ready_timeout_s: float = 2.0,
                 retry_for_s: float = RETRY_FOR_S) -> None:
        self._redis, self.channel = redis, channel
        self._ready_timeout_s, self._retry_for_s = ready_timeout_s, retry_for_s
        self._local: dict[tuple[str, str], set[_Subscription]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.received = 0  # messages this process's hub received (tests, debugging)
        self._outbox: asyncio.Queue[tuple[float, str]] | None = None  # (queued at, message)
        self._publisher: asyncio.Task[None] | None = None

    async def publish(self, topic: str, job_id: str, payload: str) -> None:
        """Queue one PUBLISH (returns at once); every listening process gets it, in order."""
        if self._outbox is None:
            self._outbox = asyncio.Queue(OUTBOX_SIZE)
        if self._publisher is None or self._publisher.done():
            loop = asyncio.get_running_loop()
            self._publisher = loop.create_task(self._publish_all(), name="job-events-out")
        if self._outbox.full():
            self._outbox.get_nowait()
            log.warning("job_event_dropped", reason="outbox full")
        message = json.dumps({"t": topic, "id": job_id, "p": payload})
        self._outbox.put_nowait((time.monotonic(), message))

    async def _publish_all(self) -> None:
        assert self._outbox is not None
        while True:
            queued_at, message = await self._outbox.get()
            try:
                await self._publish_one(queued_at, message)
            finally:
                self._outbox.task_done()

    async def _publish_one(self, queued_at: float, message: str) -> None:
        delay = 0.1
        while True:
            try:
                await self._redis.publish(self.channel, message)
                return
            except Exception as exc:
                if time.monotonic() + delay - queued_at > self._retry_for_s:
                    log.warning("job_event_dropped", reason="not published", error=type(exc).__name__)
                    return
                if delay == 0.1:
                    log.warning("job_event_publish_failed", error=type(exc).__name__, retrying=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str, job_id: str) -> AsyncIterator[_Subscription]:
        """Register a local subscription; the hub's channel subscription is confirmed first."""
        subscription = _Subscription()
        key = (topic, job_id)
        self._local[key].add(subscription)
        try:
            self._start()
            try:
                async with asyncio.timeout(self._ready_timeout_s):
                    await self._ready.wait()
            except TimeoutError:
                subscription.put(RESYNC)  # not listening yet: the caller re-reads, then waits
            yield subscription
        finally:
            self._local[key].discard(subscription)
            if not self._local[key]:
                del self._local[key]

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="job-events")

    async def _listen(self) -> None:
        def connected(reconnected: bool) -> None:
            if reconnected:  # events may have been missed meanwhile
                self._broadcast_resync()

        await listen(self._redis, self.channel, ready=self._ready, confirm_s=self._ready_timeout_s,
                     on_message=self._dispatch, on_connected=connected, on_lost=self._broadcast_resync,
                     log=log, lost_event="job_events_connection_lost")

    def _dispatch(self, raw: Any) -> None:
        self.received += 1
        try:
            message = json.loads(raw)
            key = (str(message["t"]), str(message["id"]))
            payload = str(message["p"])
        except (ValueError, KeyError, TypeError):
            log.warning("job_events_bad_message")
            return
        for subscription in list(self._local.get(key, ())):
            subscription.put(payload)

    def _broadcast_resync(self) -> None:
        for subscriptions in list(self._local.values()):
            for subscription in list(subscriptions):
                subscription.put(RESYNC)

    async def aclose(self) -> None:
        """Publish what is still queued (for up to FLUSH_S), then stop listening and publishing."""
        if self._outbox is not None and self._publisher is not None and not self._publisher.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_S):
                    await self._outbox.join()
        loop = asyncio.get_running_loop()  # (a task of a loop that is gone runs no more)
        tasks = [task for task in (self._task, self._publisher)
                 if task is not None and task.get_loop() is loop]
        for task in tasks:
            task.cancel()
        if tasks:  # bounded: a task that swallowed its cancellation must not hang the stop
            await asyncio.wait(tasks, timeout=CLOSE_S)
        self._task = self._publisher = None
