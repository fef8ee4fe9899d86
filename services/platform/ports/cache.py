"""The key-value store port behind the chat response cache and coalescing locks.

Implementations: `repositories/chat_cache.py` (redis-py and Upstash REST). Values are UTF-8 strings.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from services.platform.ports.rate_limit import Take


@runtime_checkable
class KeyValueStore(Protocol):
    """The few string commands the chat cache needs."""

    async def get(self, key: str) -> str | None:
        """The value at `key`, or None."""
        ...

    async def set(self, key: str, value: str, *, ttl_s: int) -> None:
        """Store `value` for `ttl_s` seconds."""
        ...

    async def acquire(self, key: str, *, ttl_ms: int) -> bool:
        """SET NX PX: True when this caller now holds `key`."""
        ...

    async def release(self, key: str) -> None:
        """Drop `key`."""
        ...

    async def get_or_acquire(self, key: str, lock_key: str, *, ttl_ms: int) -> tuple[str | None, bool]:
        """In one atomic step: (value, False) when `key` holds a value (the lock untouched), else
        (None, held) after SET NX PX on `lock_key` (held: this caller now holds it)."""
        ...

    async def set_and_release(self, key: str, value: str, *, ttl_s: int, lock_key: str) -> None:
        """`set(key, value)` and `release(lock_key)` in one round trip."""
        ...

    async def take_and_claim(self, take: Take, key: str, lock_key: str, *, ttl_ms: int
                             ) -> tuple[tuple[bool, float] | None, str | None, bool]:
        """In one atomic step (one round trip): the rate-limit `take` (its bucket refilled, `cost` tokens
        taken when there are enough), then, only when it was allowed, `get_or_acquire`.
        ((allowed, tokens left), value, held); (None, None, True) when the store does not answer
        (fail open, as `get_or_acquire` and the rate limiter do)."""
        ...
