"""The Redis guard covers pipelines too (`repositories/redis_client.py`).

A command that times out or cannot connect opens the guard's cool-down, during which every command
fails at once. redis-py's pipelines send past the client's `execute_command`, so arq's enqueue
(WATCH, EXISTS, MULTI/EXEC) and the cache's pipelined writes went to Redis during a cool-down, and a
pipeline that timed out did not open it. Commands issued together share one pipelined round trip
(`GuardedRedis`): to a hung Redis each of them fails within the bound too."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

import pytest

from repositories.redis_client import GuardedRedis, RedisUnavailable, connect_redis


async def test_during_the_cool_down_a_pipeline_and_an_enqueue_fail_at_once_and_send_nothing(settings):
    redis = connect_redis(settings.redis_url)
    key, queue = f"guard:{uuid.uuid4().hex}", f"guard-queue:{uuid.uuid4().hex}"
    try:
        redis.guard.open_until = time.monotonic() + 30  # as after a command that timed out
        started = time.monotonic()
        with pytest.raises(RedisUnavailable):
            async with redis.pipeline(transaction=False) as pipe:
                pipe.set(key, "1")
                await pipe.execute()
        with pytest.raises(RedisUnavailable):
            await redis.enqueue_job("some_job", _job_id="j1", _queue_name=queue)
        assert time.monotonic() - started < 0.5
        redis.guard.open_until = 0.0  # the cool-down is over
        assert await redis.get(key) is None and await redis.zcard(queue) == 0  # nothing was sent
        assert await redis.enqueue_job("some_job", _job_id="j1", _queue_name=queue) is not None
        assert await redis.zcard(queue) == 1
    finally:
        await redis.delete(key, queue)
        await redis.aclose()


async def _enqueue(redis: GuardedRedis) -> list[object]:
    return [await redis.enqueue_job("some_job", _job_id="j2", _queue_name="hung-queue")]


async def _ten_at_once(redis: GuardedRedis) -> list[object]:  # one shared round trip (GuardedRedis)
    return await asyncio.gather(*(redis.get(f"k{i}") for i in range(10)), return_exceptions=True)


@pytest.mark.parametrize("send", [_enqueue, _ten_at_once], ids=["pipeline", "commands-sent-together"])
async def test_a_pipeline_to_a_hung_redis_is_bounded_and_opens_the_cool_down(own_servers, send):
    redis = connect_redis(own_servers["redis"].url, timeout_s=0.5, cooldown_s=30)
    try:
        assert await redis.ping()
        os.kill(own_servers["redis"].process.pid, signal.SIGSTOP)
        started = time.monotonic()
        try:
            answers = await send(redis)
        except RedisUnavailable as exc:
            answers = [exc]
        assert time.monotonic() - started < 2.0
        assert answers and all(isinstance(a, RedisUnavailable) for a in answers), answers
        started = time.monotonic()
        with pytest.raises(RedisUnavailable, match="cool-down"):  # refused at once: the guard is open
            await redis.get("anything")
        assert time.monotonic() - started < 0.1
    finally:
        os.kill(own_servers["redis"].process.pid, signal.SIGCONT)
        await redis.aclose()
