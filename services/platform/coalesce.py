"""Coalescing of identical concurrent work.

- `SingleFlight`: in one process, callers with the same key share one task.
- `wait_or_lead`: across processes, a short Redis lock elects one leader; the
  others poll the cache until the leader fills it (or the lock lapses).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from services.platform.ports.cache import KeyValueStore

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """`run(key, fn)` → (result, shared); `shared` is True for callers that joined another's call."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Task[Any]] = {}

    async def run(self, key: str, fn: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """Run `fn` once for all concurrent callers of `key`."""
        task = self._inflight.get(key)
        if task is not None:
            return await asyncio.shield(task), True
        task = asyncio.ensure_future(fn())
        self._inflight[key] = task
        task.add_done_callback(lambda _t: self._inflight.pop(key, None))
        # Shielded: a leader whose client goes away does not cancel the followers' answer.
        return await asyncio.shield(task), False

    def __len__(self) -> int:
        return len(self._inflight)


async def claim_or_wait(
    store: KeyValueStore,
    lock_key: str,
    *,
    lock_ttl_ms: int,
    check: Callable[[], Awaitable[T | None]],
    poll_s: float = 0.05,
    claim: Callable[[], Awaitable[tuple[T | None, bool]]] | None = None,
) -> tuple[bool, T | None]:
    """(True, None): this caller holds `lock_key` and must release it; (False, result): another
    holder produced `result`; (False, None): waited the whole TTL in vain, go ahead unlocked.

    `claim`, when given, looks for the result and takes the lock in one atomic step (one round trip
    instead of acquire + check): (result, False) when there is one, else (None, held)."""
    deadline = asyncio.get_running_loop().time() + lock_ttl_ms / 1000
    while True:
        if claim is not None:
            found, held = await claim()
            if found is not None:
                return False, found
            if held:
                return True, None
        elif await store.acquire(lock_key, ttl_ms=lock_ttl_ms):
            # Double-checked: a holder may have filled the result and released the lock between
            # our last look and this acquire; leading now would repeat its work.
            found = await check()
            if found is None:
                return True, None
            await store.release(lock_key)
            return False, found
        while True:
            if asyncio.get_running_loop().time() >= deadline:
                return False, None
            await asyncio.sleep(poll_s)
            found = await check()
            if found is not None:
                return False, found
            if await store.get(lock_key) is None:
                break  # the holder gave up without a result: try to lead


async def wait_or_lead(
    store: KeyValueStore,
    lock_key: str,
    *,
    lock_ttl_ms: int,
    check: Callable[[], Awaitable[T | None]],
    lead: Callable[[], Awaitable[T]],
    poll_s: float = 0.05,
    claim: Callable[[], Awaitable[tuple[T | None, bool]]] | None = None,
    finish: Callable[[T, bool], Awaitable[None]] | None = None,
) -> tuple[T, bool]:
    """Lead (call `lead` holding the lock) or wait for the holder's result via `check`.

    Returns (result, waited). A waiter whose leader vanished leads itself. `finish(result, held)`,
    when given, publishes a led result and releases the lock if held (in one round trip);
    without it, or when `lead` raises, the lock is released here."""
    held, found = await claim_or_wait(store, lock_key, lock_ttl_ms=lock_ttl_ms, check=check,
                                      poll_s=poll_s, claim=claim)
    if found is not None:
        return found, True
    try:
        result = await lead()
    except BaseException:
        if held:
            await store.release(lock_key)
        raise
    if finish is not None:
        await finish(result, held)
    elif held:
        await store.release(lock_key)
    return result, False
