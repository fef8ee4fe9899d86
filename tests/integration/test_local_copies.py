"""Issue 28: in-process copies of Redis cache entries (repositories/local_copies.py), on the tests' Redis.

Two `LocalCopies` on one channel stand for two processes; each `TombstoneCache` is one process's."""

from __future__ import annotations

import asyncio
import uuid

from repositories.local_copies import LocalCopies
from repositories.redis_client import connect_redis
from repositories.users import TombstoneCache


async def _pair(settings):
    redis = connect_redis(settings.redis_url)
    channel = f"test:{uuid.uuid4().hex}:invalidate"
    prefix = f"test:{uuid.uuid4().hex}:user:"
    copies = [LocalCopies(redis, channel=channel), LocalCopies(redis, channel=channel)]
    for one in copies:
        one.start()
        assert await one.wait_ready(5)
    caches = [TombstoneCache(redis, prefix=prefix, local=one) for one in copies]
    return redis, copies, caches


async def _close(redis, copies) -> None:
    for one in copies:
        await one.aclose()
    await redis.aclose()


async def _until(predicate, timeout_s: float = 1.0) -> None:
    """Poll `predicate` (the listener runs in this loop) until true, failing after `timeout_s`."""
    for _ in range(int(timeout_s * 1000)):
        if predicate():
            return
        await asyncio.sleep(0.001)
    assert predicate(), "not within the time limit"


async def test_a_copy_answers_without_redis_until_another_process_invalidates_it(settings):
    redis, copies, (mine, theirs) = await _pair(settings)
    try:
        assert await mine.get("k") is None
        await mine.fill("k", "v1")  # loaded from the database: kept here and in Redis
        await redis.delete(mine._prefix + "k")  # Redis forgets it: the copy still answers
        assert await mine.get("k") == b"v1"
        assert copies[0].counts["hit"] == 1
        await theirs.invalidate("k")  # the other process's write
        await _until(lambda: copies[0].counts["invalidation"] >= 1)
        assert await mine.get("k") is None  # the tombstone: nothing, not the copy
    finally:
        await _close(redis, copies)


async def test_a_look_up_that_began_before_an_invalidation_keeps_nothing(settings):
    redis, copies, (mine, theirs) = await _pair(settings)
    try:
        assert await mine.get("k") is None  # a miss: this look-up now reads the database ...
        await theirs.invalidate("k")  # ... while another process changes the record
        await _until(lambda: copies[0].counts["invalidation"] >= 1)
        await mine.fill("k", "old")  # what the look-up read may predate the change
        assert copies[0].counts["install"] == 0
        assert await mine.get("k") is None  # neither the copy nor Redis (tombstone) has "old"
    finally:
        await _close(redis, copies)


async def test_copies_are_dropped_and_unused_while_not_listening(settings):
    redis, copies, (mine, _) = await _pair(settings)
    try:
        assert await mine.get("k") is None
        await mine.fill("k", "v1")
        assert await mine.get("k") == b"v1"
        flushes = copies[0].counts["flush"]
        await copies[0].aclose()  # the listener is gone (as when the connection is lost)
        assert not copies[0].ready and copies[0].counts["flush"] > flushes
        await redis.set(mine._prefix + "k", b"v2")
        assert await mine.get("k") == b"v2"  # Redis answers, not the dropped copy
        copies[0].start()
        assert await copies[0].wait_ready(5)
        assert copies[0].get(mine._prefix + "k") is None  # subscribed again: starts empty
    finally:
        await _close(redis, copies)


async def test_an_unreadable_message_drops_every_copy(settings):
    redis, copies, (mine, _) = await _pair(settings)
    try:
        assert await mine.get("k") is None
        await mine.fill("k", "v1")
        flushes = copies[0].counts["flush"]
        await redis.publish(copies[0].channel, b"not json")
        await _until(lambda: copies[0].counts["flush"] > flushes)
        assert copies[0].get(mine._prefix + "k") is None
    finally:
        await _close(redis, copies)
