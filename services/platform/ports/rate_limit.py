"""The token-bucket store port (`repositories/rate_limit.py`: redis-py and Upstash REST)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class BucketStore(Protocol):
    """Atomically refills and takes tokens from one bucket."""

    async def take(
        self, key: str, *, burst: int, refill_per_s: float, cost: int = 1
    ) -> tuple[bool, float]:
        """(allowed, seconds until the next token)."""
        ...
