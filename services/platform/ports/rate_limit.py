"""The token-bucket store port (`repositories/rate_limit.py`: redis-py and Upstash REST)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Take:
    """One token-bucket take, to be run by a store together with another command (one round trip)."""

    key: str  # the bucket's full key (prefix included)
    burst: int
    refill_per_s: float
    cost: int = 1


@runtime_checkable
class BucketStore(Protocol):
    """Atomically refills and takes tokens from one bucket."""

    async def take(
        self, key: str, *, burst: int, refill_per_s: float, cost: int = 1
    ) -> tuple[bool, float]:
        """(allowed, seconds until the next token)."""
        ...
