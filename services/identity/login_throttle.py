"""Failed-login throttling per client IP and per account (contract §17), on the shared token buckets.

Each attempt takes a token from both buckets before the password is checked, so concurrent
guesses cannot overrun the limit; a successful login gives its tokens back. An empty bucket
answers 429 with Retry-After, for known and unknown emails alike.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from services.platform.errors import RateLimited
from services.platform.ports.rate_limit import BucketStore
from services.platform.rate_limit import Limit, decide


@dataclass(frozen=True, slots=True)
class Reservation:
    """The bucket keys one attempt took a token from."""

    keys: tuple[tuple[str, Limit], ...]


class LoginThrottle:
    """Limits failed logins: `ip` burst per window per address, `account` per email."""

    def __init__(self, store: BucketStore, *, ip: Limit, account: Limit, prefix: str) -> None:
        self._store, self._ip, self._account, self._prefix = store, ip, account, prefix

    async def reserve(self, *, ip: str, email: str) -> Reservation:
        """Take one attempt from both buckets; RateLimited (429, Retry-After) when either is empty."""
        digest = hashlib.sha256(email.encode()).hexdigest()[:32]  # no address in Redis keys
        taken: list[tuple[str, Limit]] = []
        buckets = ((f"{self._prefix}ip:{ip}", self._ip), (f"{self._prefix}acct:{digest}", self._account))
        for key, limit in buckets:
            allowed, tokens = await self._store.take(key, burst=limit.burst, refill_per_s=limit.refill_per_s)
            if not allowed:
                await self.release(Reservation(tuple(taken)))  # the other bucket keeps nothing
                decision = decide(limit, allowed=False, tokens=tokens)
                raise RateLimited(
                    f"Too many failed sign-in attempts; retry in {decision.retry_after_s} s.",
                    headers=decision.headers())
            taken.append((key, limit))
        return Reservation(tuple(taken))

    async def allow_mail(self, email: str, *, per_hour: int = 3) -> bool:
        """Whether another reset mail may go to this address (a few an hour; no mail-bombing)."""
        digest = hashlib.sha256(email.encode()).hexdigest()[:32]
        allowed, _ = await self._store.take(f"{self._prefix}mail:{digest}", burst=per_hour,
                                            refill_per_s=per_hour / 3600)
        return allowed

    async def release(self, reservation: Reservation) -> None:
        """Give an attempt back (after a successful login)."""
        for key, limit in reservation.keys:
            await self._store.take(key, burst=limit.burst, refill_per_s=limit.refill_per_s, cost=-1)
