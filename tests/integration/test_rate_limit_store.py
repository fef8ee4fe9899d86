"""The token-bucket Lua script on real Redis, directly and over the Upstash REST wire."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from repositories.rate_limit import RedisBucketStore, UpstashBucketStore
from tests.fakes.upstash import FakeUpstash


@pytest.fixture
async def redis_client(settings):
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


async def test_thirty_concurrent_takes_on_a_burst_of_ten_let_exactly_ten_through(redis_client):
    store = RedisBucketStore(redis_client)
    results = await asyncio.gather(*(store.take("rl:t", burst=10, refill_per_s=0) for _ in range(30)))
    assert sum(allowed for allowed, _ in results) == 10
    assert sorted(tokens for allowed, tokens in results if allowed) == list(range(10))


async def test_bucket_refills_over_time(redis_client):
    store = RedisBucketStore(redis_client)
    for _ in range(2):
        assert (await store.take("rl:r", burst=2, refill_per_s=20))[0]
    assert not (await store.take("rl:r", burst=2, refill_per_s=20))[0]
    await asyncio.sleep(0.12)
    allowed, tokens = await store.take("rl:r", burst=2, refill_per_s=20)
    assert allowed and tokens < 2
    assert 0 < await redis_client.ttl("rl:r") <= 2


async def test_upstash_store_runs_the_same_script_over_rest(settings, redis_client):
    with FakeUpstash(settings.redis_url) as fake:
        store = UpstashBucketStore(fake.url, fake.token)
        try:
            results = await asyncio.gather(*(store.take("rl:u", burst=10, refill_per_s=0) for _ in range(30)))
        finally:
            await store.close()
    assert sum(allowed for allowed, _ in results) == 10
    assert fake.calls == 30 and all(cmd[0] == "EVAL" for cmd in fake.commands)
    assert await redis_client.hget("rl:u", "tokens") == b"0"


async def test_upstash_and_redis_stores_share_buckets(settings, redis_client):
    with FakeUpstash(settings.redis_url) as fake:
        rest = UpstashBucketStore(fake.url, fake.token)
        direct = RedisBucketStore(redis_client)
        try:
            outcomes = [await (rest if i % 2 else direct).take("rl:s", burst=3, refill_per_s=0)
                        for i in range(6)]
        finally:
            await rest.close()
    assert [allowed for allowed, _ in outcomes] == [True, True, True, False, False, False]


async def test_upstash_error_surfaces_as_an_exception(settings):
    with FakeUpstash(settings.redis_url, token="right") as fake:
        store = UpstashBucketStore(fake.url, "wrong")
        try:
            with pytest.raises(Exception):  # noqa: B017 - the SDK's UpstashError
                await store.take("rl:x", burst=1, refill_per_s=1)
        finally:
            await store.close()
