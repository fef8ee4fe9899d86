"""Token-bucket rate limits per principal (contract §1), shared by every process through the store."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

import structlog

from services.platform.errors import RateLimited
from services.platform.ports.rate_limit import BucketStore, Take
from services.platform.principal import Principal

log = structlog.stdlib.get_logger("muse.rate_limit")

STORE_TIMEOUT_S = 2.0  # a store that does not answer within this fails open


@dataclass(frozen=True, slots=True)
class Limit:
    """A bucket of `burst` tokens refilled at `refill_per_s` tokens per second."""

    burst: int
    refill_per_s: float


DEFAULT_LIMITS: dict[str, Limit] = {
    "free": Limit(10, 1.0),
    "starter": Limit(30, 3.0),
    "enterprise": Limit(100, 10.0),
    "anonymous": Limit(20, 2.0),
    # not plans: their own buckets. Failed credentials per client IP (guessing keys or tokens), and
    # /media/ files (a gallery loads dozens of thumbnails at once; they must not use the API bucket).
    "auth_failures": Limit(10, 0.2),
    "media": Limit(300, 50.0),
}


MAX_BLOCKED = 10_000  # addresses remembered as blocked per process (expired ones pruned beyond it)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of taking one token, with the figures for the RateLimit-* headers."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    retry_after_s: int

    def headers(self) -> dict[str, str]:
        """RateLimit-Limit/Remaining/Reset, plus Retry-After when refused."""
        values = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }
        if not self.allowed:
            values["Retry-After"] = str(self.retry_after_s)
        return values


def limits_from(overrides: Mapping[str, object] | None) -> dict[str, Limit]:
    """The default limits with `{"plan": [burst, refill_per_s]}` overrides applied."""
    limits = dict(DEFAULT_LIMITS)
    for plan, value in (overrides or {}).items():
        burst, refill = cast("Sequence[Any]", value)
        limits[plan] = Limit(int(burst), float(refill))
    return limits


class RateLimiter:
    """Takes one token per request from the principal's bucket."""

    def __init__(
        self, store: BucketStore, limits: Mapping[str, Limit] | None = None, *, prefix: str = "rl:"
    ) -> None:
        self._store = store
        self._limits = dict(limits or DEFAULT_LIMITS)
        self._prefix = prefix
        self._blocked: dict[str, float] = {}  # ip → monotonic deadline of its auth-failure block

    async def close(self) -> None:
        """Release the store's connections (the Upstash HTTP client)."""
        close = getattr(self._store, "close", None)
        if close is not None:
            await close()

    def limit_for(self, principal: Principal) -> Limit:
        """The limit of the principal's plan (anonymous callers have their own)."""
        if not principal.is_authenticated:
            return self._limits["anonymous"]
        return self._limits.get(principal.plan, self._limits["free"])

    async def hit(self, principal: Principal, *, cost: int = 1) -> Decision:
        """Take `cost` tokens for this principal and say whether the request may go on."""
        limit = self.limit_for(principal)
        allowed, tokens = await self._store.take(
            self._prefix + principal.rate_key, burst=limit.burst, refill_per_s=limit.refill_per_s, cost=cost
        )
        return decide(limit, allowed=allowed, tokens=tokens, cost=cost)


    def owe(self, principal: Principal, *, cost: int = 1) -> OwedTake:
        """The token this principal's request owes, to be taken with its first store round trip."""
        limit = self.limit_for(principal)
        take = Take(self._prefix + principal.rate_key, limit.burst, limit.refill_per_s, cost)
        return OwedTake(self, take, limit)

    async def take(self, take: Take) -> tuple[bool, float]:
        """Run one take on its own (an owed take that found no round trip to ride with)."""
        return await self._store.take(take.key, burst=take.burst, refill_per_s=take.refill_per_s,
                                      cost=take.cost)

    async def hit_media(self, principal: Principal) -> Decision:
        """Take a token from the principal's media bucket (separate from its API bucket)."""
        return await self._take("media:" + principal.rate_key, self._limits["media"])

    async def auth_failed(self, ip: str) -> Decision:
        """Count one failed authentication from `ip`; refused (and blocked here) once it failed too often."""
        decision = await self._take("authfail:" + ip, self._limits["auth_failures"])
        if not decision.allowed:
            if len(self._blocked) >= MAX_BLOCKED:
                now = time.monotonic()
                self._blocked = {k: v for k, v in self._blocked.items() if v > now}
            self._blocked[ip] = time.monotonic() + decision.retry_after_s
        return decision

    def auth_blocked(self, ip: str) -> Decision | None:
        """The refusal to give `ip` while it is blocked for failing authentication, else None.

        Checked before a credential is verified, so a blocked guesser learns nothing, not even
        from a correct guess. The block is remembered in this process from the refusal that
        started it (no extra store call per request); another process learns it at the first
        failure it sees from that address, since the bucket itself is shared."""
        until = self._blocked.get(ip)
        if until is None:
            return None
        left = until - time.monotonic()
        if left <= 0:
            self._blocked.pop(ip, None)
            return None
        limit = self._limits["auth_failures"]
        return Decision(False, limit.burst, 0, math.ceil(left), max(1, math.ceil(left)))

    async def _take(self, key: str, limit: Limit, cost: int = 1) -> Decision:
        allowed, tokens = await self._store.take(self._prefix + key, burst=limit.burst,
                                                 refill_per_s=limit.refill_per_s, cost=cost)
        return decide(limit, allowed=allowed, tokens=tokens, cost=cost)


def decide(limit: Limit, *, allowed: bool, tokens: float, cost: int = 1) -> Decision:
    """Header figures for a bucket holding `tokens` after the take."""
    rate = limit.refill_per_s
    if rate > 0:
        reset = math.ceil(max(0.0, limit.burst - tokens) / rate)
        retry = max(1, math.ceil((cost - tokens) / rate)) if not allowed else 0
    else:  # no refill: nothing comes back within any useful horizon
        reset = retry = 3600
    return Decision(allowed, limit.burst, max(0, math.floor(tokens)), reset, retry)


def refused(decision: Decision) -> RateLimited:
    """The 429 of a refused take, with its RateLimit-* and Retry-After headers."""
    return RateLimited(f"Too many requests; retry in {decision.retry_after_s} s.", headers=decision.headers())


class OwedTake:
    """A request's rate-limit token, owed until the first store round trip of its view carries it
    (issue 28: one round trip for the take and the chat cache's first look, not two).

    Views that declare it (`@policy(rate_take="owed")`) owe the take from the middleware on; the
    first of these settles it: the chat cache's first look (`take_and_claim`, one script), or
    `settle()` alone, which every step with an effect (idempotency records, charges, stored
    conversations) calls first, and the middleware calls after the view (so a request refused
    at the end is answered 429 as before, and a view that never reached the store still takes
    its token). A refused take raises the same 429 the middleware raises; a store that does not
    answer fails open, as before."""

    __slots__ = ("_limiter", "take", "limit", "decision", "unavailable")

    def __init__(self, limiter: RateLimiter, take: Take, limit: Limit) -> None:
        self._limiter, self.take, self.limit = limiter, take, limit
        self.decision: Decision | None = None
        self.unavailable = False

    @property
    def settled(self) -> bool:
        return self.decision is not None or self.unavailable

    def record(self, taken: tuple[bool, float] | None) -> None:
        """The outcome of a round trip that carried the take (None: the store did not answer)."""
        if taken is None:
            self.unavailable = True
            log.warning("rate_limit_unavailable", error="store_unavailable")
            return
        allowed, tokens = taken
        self.decision = decide(self.limit, allowed=allowed, tokens=tokens, cost=self.take.cost)
        if not allowed:
            raise refused(self.decision)

    async def settle(self) -> None:
        """Take the token now, alone, unless a round trip already carried it; 429 when refused."""
        if self.settled:
            return
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                taken: tuple[bool, float] | None = await self._limiter.take(self.take)
        except Exception as exc:  # the limiter's store is down: fail open, /health reports it
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            taken = None
        self.record(taken)


_owed: ContextVar[OwedTake | None] = ContextVar("muse_owed_take", default=None)


def owe(take: OwedTake | None) -> None:
    """Make `take` the current request's owed token (the rate-limit middleware; None: nothing owed)."""
    _owed.set(take)


def owed_take() -> OwedTake | None:
    """The current request's token while it is still owed (None once settled, or when nothing is)."""
    take = _owed.get()
    return None if take is None or take.settled else take


async def settle_owed() -> None:
    """Settle the current request's owed token, if any (429 when refused). A no-op once settled."""
    take = _owed.get()
    if take is not None and not take.settled:
        await take.settle()
