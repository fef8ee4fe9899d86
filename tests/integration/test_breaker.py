"""The Redis circuit breaker, shared by every process through Redis."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from repositories.breaker import RedisCircuitBreaker
from services.platform.clock import clock


@pytest.fixture
async def redis(settings):
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


async def test_opens_after_n_consecutive_failures_and_counts_calls(redis):
    breaker = RedisCircuitBreaker(redis, threshold=3, cooldown_s=30)
    await breaker.record_failure("gemini")
    await breaker.record_success("gemini")  # a success resets the streak
    for _ in range(2):
        await breaker.record_failure("gemini")
        assert await breaker.allow("gemini")
    await breaker.record_failure("gemini")
    assert not await breaker.allow("gemini")
    state = await breaker.state("gemini")
    assert state["state"] == "open" and state["consecutive_failures"] == 3
    assert state["calls"] == 5 and state["failures"] == 4


async def test_state_is_shared_between_breaker_instances(redis, settings):
    other = Redis.from_url(settings.redis_url)
    try:
        first, second = RedisCircuitBreaker(redis, threshold=1), RedisCircuitBreaker(other, threshold=1)
        await first.record_failure("openai")
        assert not await second.allow("openai")
        assert (await second.state("openai"))["state"] == "open"
    finally:
        await other.aclose()


async def test_after_cooldown_one_trial_decides(redis):
    breaker = RedisCircuitBreaker(redis, threshold=1, cooldown_s=30)
    await breaker.record_failure("gemini")
    clock.offset = timedelta(seconds=31)
    assert (await breaker.state("gemini"))["state"] == "half_open"
    assert await breaker.allow("gemini")          # the trial
    assert not await breaker.allow("gemini")      # everyone else waits for it
    await breaker.record_failure("gemini")        # trial failed → open again
    assert (await breaker.state("gemini"))["state"] == "open"
    clock.offset = timedelta(seconds=62)
    assert await breaker.allow("gemini")
    await breaker.record_success("gemini")
    assert (await breaker.state("gemini"))["state"] == "closed"
    assert await breaker.allow("gemini") and await breaker.allow("gemini")


async def test_successes_while_closed_are_written_together_and_keep_their_order(redis):
    """Issue 28: a success while this process last read the circuit closed is no round trip of its own."""
    breaker = RedisCircuitBreaker(redis, threshold=3, cooldown_s=30, closed_cache_s=30)
    key = "muse:breaker:deferred"
    await breaker.reset("deferred")
    assert await breaker.allow("deferred")  # read closed: successes are deferred from now on
    for _ in range(5):
        await breaker.record_success("deferred")
    assert await redis.hget(key, "calls") is None  # nothing written yet (was one script call each)
    await breaker.record_failure("deferred")  # the successes came first: written with the failure
    assert await redis.hmget(key, ["calls", "consecutive", "failures"]) == [b"6", b"1", b"1"]
    for _ in range(2):  # failure, success, failure, failure: no three in a row, the circuit stays closed
        assert await breaker.allow("deferred")
        await breaker.record_success("deferred")
        await breaker.record_failure("deferred")
    assert await breaker.allow("deferred")
    await breaker.record_success("deferred")
    state = await breaker.state("deferred")  # a state read here writes what is deferred first
    assert state["state"] == "closed" and state["consecutive_failures"] == 0, state
    assert state["calls"] == 11 and state["failures"] == 3, state


async def test_deferred_successes_are_written_within_the_closed_cache_time(redis):
    breaker = RedisCircuitBreaker(redis, threshold=3, cooldown_s=30, closed_cache_s=0.2)
    await breaker.reset("later")
    assert await breaker.allow("later")
    await breaker.record_success("later")
    await breaker.record_success("later")
    for _ in range(50):
        if await redis.hget("muse:breaker:later", "calls") == b"2":
            break
        await asyncio.sleep(0.05)
    assert await redis.hget("muse:breaker:later", "calls") == b"2"
