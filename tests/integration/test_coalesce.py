"""Cross-process coalescing lock on the real Redis: a waiter never repeats work a holder finished."""

from __future__ import annotations

from repositories.chat_cache import RedisKeyValueStore
from services.platform.coalesce import claim_or_wait, wait_or_lead


async def test_waiter_that_wins_the_lock_after_the_holder_finished_uses_its_result(container):
    store = RedisKeyValueStore(container.platform.redis)
    lock, entry = "muse:test:lock:race", "muse:test:entry:race"
    assert await store.acquire(lock, ttl_ms=5000)  # another process is leading
    looks = 0

    async def check() -> str | None:
        nonlocal looks
        looks += 1
        value = await store.get(entry)
        if looks == 1:
            # The holder fills the result and releases its lock right after this miss was seen:
            # the waiter will find the lock free and win it.
            await store.set(entry, "the answer", ttl_s=60)
            await store.release(lock)
        return value

    held, found = await claim_or_wait(store, lock, lock_ttl_ms=5000, check=check, poll_s=0.01)

    assert (held, found) == (False, "the answer")
    assert await store.get(lock) is None  # the re-checking waiter released the lock it briefly won


async def test_lead_runs_once_when_nobody_holds_the_lock(container):
    store = RedisKeyValueStore(container.platform.redis)
    calls = 0

    async def lead() -> str:
        nonlocal calls
        calls += 1
        return "led"

    async def check() -> str | None:
        return await store.get("muse:test:entry:none")

    result, waited = await wait_or_lead(store, "muse:test:lock:none", lock_ttl_ms=2000, check=check,
                                        lead=lead)
    assert (result, waited, calls) == ("led", False, 1)
    assert await store.get("muse:test:lock:none") is None
