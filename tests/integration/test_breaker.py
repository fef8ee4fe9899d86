"""The Redis circuit breaker, shared by every process through Redis."""

from __future__ import annotations

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
