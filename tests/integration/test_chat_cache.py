"""Chat response cache and coalescing on real Redis (and on the Upstash REST shim when present)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from repositories.chat_cache import RedisKeyValueStore
from services.chat.cache import ChatCache, cache_key
from services.chat.ports import ChatCompletion, ChatMessage
from services.platform.coalesce import SingleFlight, wait_or_lead

MSGS = [ChatMessage("user", "Hi")]


def test_key_depends_on_model_messages_and_temperature():
    base = cache_key(model="default:gemini/x", messages=MSGS, temperature=0.7)
    assert base == cache_key(model="default:gemini/x", messages=list(MSGS), temperature=0.7)
    assert base != cache_key(model="default:openai/y", messages=MSGS, temperature=0.7)
    assert base != cache_key(model="default:gemini/x", messages=MSGS, temperature=0.2)
    assert base != cache_key(model="default:gemini/x", messages=[ChatMessage("user", "Hi!")], temperature=0.7)
    system = [ChatMessage("system", "Hi")]
    assert base != cache_key(model="default:gemini/x", messages=system, temperature=0.7)


def test_key_keeps_limited_and_unlimited_answers_apart():
    unlimited = cache_key(model="m", messages=MSGS, temperature=0.7)
    short = cache_key(model="m", messages=MSGS, temperature=0.7, max_tokens=5)
    assert unlimited == cache_key(model="m", messages=MSGS, temperature=0.7, max_tokens=None)
    assert short == cache_key(model="m", messages=MSGS, temperature=0.7, max_tokens=5)
    assert len({unlimited, short, cache_key(model="m", messages=MSGS, temperature=0.7, max_tokens=6)}) == 3
    assert short.lock != unlimited.lock  # nor do they coalesce onto one provider call


async def test_a_cached_answer_keeps_its_finish_reason(settings):
    redis = Redis.from_url(settings.redis_url)
    try:
        cache = ChatCache(RedisKeyValueStore(redis), ttl_s=60)
        key = cache_key(model="m", messages=[ChatMessage("user", "finish?")], temperature=None, max_tokens=2)
        await cache.put(key, ChatCompletion("Hello", "gemini", "g", finish_reason="length"))
        assert (await cache.get(key)) == ChatCompletion("Hello", "gemini", "g", finish_reason="length")
    finally:
        await redis.aclose()


async def test_cache_round_trip_with_ttl(settings):
    redis = Redis.from_url(settings.redis_url)
    try:
        cache = ChatCache(RedisKeyValueStore(redis), ttl_s=60)
        key = cache_key(model="m", messages=MSGS, temperature=None)
        assert await cache.get(key) is None
        await cache.put(key, ChatCompletion("Hello", "gemini", "gemini-2.5-flash"))
        assert await cache.get(key) == ChatCompletion("Hello", "gemini", "gemini-2.5-flash")
        assert 0 < await redis.ttl(key.entry) <= 60
    finally:
        await redis.aclose()


async def test_single_flight_runs_once_for_concurrent_callers():
    flights: SingleFlight[int] = SingleFlight()
    calls = 0

    async def work() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return 42

    results = await asyncio.gather(*(flights.run("k", work) for _ in range(20)))
    assert calls == 1
    assert [r for r, _ in results] == [42] * 20
    assert sum(1 for _, shared in results if not shared) == 1
    assert len(flights) == 0


async def test_cross_process_waiter_takes_the_leaders_cache_fill(settings):
    redis = Redis.from_url(settings.redis_url)
    try:
        store = RedisKeyValueStore(redis)
        leads = 0

        async def lead() -> str:
            nonlocal leads
            leads += 1
            await asyncio.sleep(0.2)
            await store.set("filled", "answer", ttl_s=10)
            return "answer"

        async def check() -> str | None:
            return await store.get("filled")

        results = await asyncio.gather(*(
            wait_or_lead(store, "lock:x", lock_ttl_ms=5000, check=check, lead=lead, poll_s=0.02)
            for _ in range(3)))
        assert leads == 1
        assert sorted(waited for _, waited in results) == [False, True, True]
        assert {r for r, _ in results} == {"answer"}
    finally:
        await redis.aclose()


async def _claim_and_publish(store, redis: Redis, tag: str) -> None:
    cache = ChatCache(store, ttl_s=60)
    key = cache_key(model="m", messages=[ChatMessage("user", f"claim {tag}")], temperature=None)
    await redis.delete(key.entry, key.lock)
    assert await cache.claim(key, ttl_ms=5000) == (None, True)  # a miss takes the lock
    assert 0 < await redis.pttl(key.lock) <= 5000
    assert await cache.claim(key, ttl_ms=5000) == (None, False)  # held by the first: wait
    answer = ChatCompletion("Hello", "gemini", "g")
    await cache.put(key, answer, unlock=True)  # the answer and the release in one round trip
    assert await redis.exists(key.lock) == 0
    assert 0 < await redis.ttl(key.entry) <= 60
    assert await cache.claim(key, ttl_ms=5000) == (answer, False)  # a hit leaves the lock alone
    assert await redis.exists(key.lock) == 0
    await redis.set(key.entry, "{broken")  # a broken entry is a miss that still tries the lock
    assert await cache.claim(key, ttl_ms=5000) == (None, True)


async def test_claim_reads_the_answer_or_takes_the_lock_atomically_on_redis(settings):
    redis = Redis.from_url(settings.redis_url)
    try:
        await _claim_and_publish(RedisKeyValueStore(redis), redis, "redis")
    finally:
        await redis.aclose()


async def test_claim_reads_the_answer_or_takes_the_lock_atomically_over_upstash_rest(settings):
    from repositories.chat_cache import UpstashKeyValueStore
    from tests.fakes.upstash import FakeUpstash

    redis = Redis.from_url(settings.redis_url)
    with FakeUpstash(settings.redis_url) as fake:
        store = UpstashKeyValueStore.from_url(fake.url, fake.token)
        try:
            await _claim_and_publish(store, redis, "upstash")
            fake.fail_next(502)  # fails open: no answer, and lead without the lock
            assert await store.get_or_acquire("muse:test:e", "muse:test:l", ttl_ms=1000) == (None, True)
        finally:
            await store.aclose()
            await redis.aclose()


async def test_coalesced_leader_publishes_and_releases_in_one_step_and_waiters_take_it(settings):
    redis = Redis.from_url(settings.redis_url)
    try:
        store = RedisKeyValueStore(redis)
        await redis.delete("filled:1", "lock:1")
        leads = 0
        finished: list[tuple[str, bool]] = []

        async def lead() -> str:
            nonlocal leads
            leads += 1
            await asyncio.sleep(0.2)
            return "answer"

        async def check() -> str | None:
            return await store.get("filled:1")

        async def claim() -> tuple[str | None, bool]:
            return await store.get_or_acquire("filled:1", "lock:1", ttl_ms=5000)

        async def finish(result: str, held: bool) -> None:
            finished.append((result, held))
            await store.set_and_release("filled:1", result, ttl_s=10, lock_key="lock:1")

        results = await asyncio.gather(*(
            wait_or_lead(store, "lock:1", lock_ttl_ms=5000, check=check, lead=lead, poll_s=0.02,
                         claim=claim, finish=finish)
            for _ in range(3)))
        assert leads == 1 and finished == [("answer", True)]
        assert sorted(waited for _, waited in results) == [False, True, True]
        assert {r for r, _ in results} == {"answer"}
        assert await redis.exists("lock:1") == 0
    finally:
        await redis.aclose()
