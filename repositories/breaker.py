"""Circuit breaker per provider, shared by every process through Redis.

closed ──N consecutive failures──► open (skipped for `cooldown_s`)
open ──cool-down over──► half_open: exactly one process gets a trial call;
    success → closed, failure → open again for another cool-down.

Also keeps per-provider `calls` / `failures` counters (admin stats read
`state(name)`). A success while this process last read the circuit closed is not a round trip of
its own: successes are counted in process and written together within `closed_cache_s`, before
this process's next failure of that provider, and before a `state` read here. So another process's
failures may count as consecutive across this process's successes of the last `closed_cache_s`.
Time comes from `services.platform.clock.utcnow` so tests can time-travel.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.platform.clock import isoformat, utcnow
from services.platform.ports.breaker import BreakerState, CircuitState

log = structlog.stdlib.get_logger("muse.breaker")

_FAILURE = """
if tonumber(ARGV[3]) > 0 then
  redis.call('HINCRBY', KEYS[1], 'calls', tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'consecutive', 0)
end
local n = redis.call('HINCRBY', KEYS[1], 'consecutive', 1)
redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HINCRBY', KEYS[1], 'calls', 1)
if n >= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'opened_until', ARGV[2])
  redis.call('DEL', KEYS[2])
end
return n
"""

_SUCCESS = """
redis.call('HINCRBY', KEYS[1], 'calls', tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'consecutive', 0)
redis.call('HDEL', KEYS[1], 'opened_until')
redis.call('DEL', KEYS[2])
return 1
"""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisCircuitBreaker:
    """Redis-backed `services.platform.ports.breaker.CircuitBreaker`."""

    def __init__(self, redis: Redis, *, threshold: int = 3, cooldown_s: float = 30.0,
                 trial_ttl_s: float = 60.0, prefix: str = "muse:breaker",
                 closed_cache_s: float = 0.0) -> None:
        self._redis = redis
        # A "closed" answer read from Redis is reused for `closed_cache_s` (issue 12: one Redis round
        # trip less per provider call); a failure recorded by this process forgets it at once, one
        # recorded by another process is seen at most `closed_cache_s` later.
        self._closed_cache_s = closed_cache_s
        self._closed_until: dict[str, float] = {}
        # Successes while this process sees the circuit closed (issue 28): counted here and written
        # in one script call within `closed_cache_s` (or before this process's next failure, or a
        # `state` read here), not one round trip a provider call.
        self._deferred: dict[str, int] = {}
        self._flushing: asyncio.Task[None] | None = None
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._trial_ttl_ms = int(trial_ttl_s * 1000)
        self._prefix = prefix
        self._failure = redis.register_script(_FAILURE)
        self._success = redis.register_script(_SUCCESS)

    def _keys(self, name: str) -> list[str]:
        return [f"{self._prefix}:{name}", f"{self._prefix}:{name}:trial"]

    async def allow(self, name: str) -> bool:
        """True when a call may go to `name` now (closed, or this caller won the half-open trial).

        Fails open: with Redis down or hung every provider is tried (each call has its own timeout)."""
        key, trial = self._keys(name)
        if self._closed_cache_s and time.monotonic() < self._closed_until.get(name, 0.0):
            return True
        try:
            opened_until = _text(await self._redis.hget(key, "opened_until"))  # type: ignore[misc]
            if opened_until is None:
                if self._closed_cache_s:
                    self._closed_until[name] = time.monotonic() + self._closed_cache_s
                return True
            if utcnow().timestamp() < float(opened_until):
                return False
            return bool(await self._redis.set(trial, "1", nx=True, px=self._trial_ttl_ms))
        except RedisError as exc:
            log.warning("breaker_unavailable", provider=name, error=type(exc).__name__)
            return True

    async def record_success(self, name: str) -> None:
        """A call succeeded: close the circuit (not recorded when Redis does not answer). While this
        process last read the circuit closed, the success is deferred (see `_deferred`)."""
        if self._closed_cache_s and time.monotonic() < self._closed_until.get(name, 0.0):
            self._deferred[name] = self._deferred.get(name, 0) + 1
            if self._flushing is None or self._flushing.done():
                self._flushing = asyncio.get_running_loop().create_task(self._flush_later())
            return
        await self._write_success(name, 1 + self._deferred.pop(name, 0))

    async def _write_success(self, name: str, calls: int) -> None:
        try:
            await self._success(keys=self._keys(name), args=[calls])
        except RedisError:
            pass

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._closed_cache_s)
        await self.flush()

    async def flush(self) -> None:
        """Write the deferred successes now."""
        deferred, self._deferred = self._deferred, {}
        for name, calls in deferred.items():
            await self._write_success(name, calls)

    async def record_failure(self, name: str) -> None:
        """A call failed: count it and open the circuit at the threshold (not recorded when Redis is down).
        This process's deferred successes of `name` came first: they are written with it."""
        until = utcnow().timestamp() + self.cooldown_s
        self._closed_until.pop(name, None)
        before = self._deferred.pop(name, 0)
        try:
            await self._failure(keys=self._keys(name), args=[self.threshold, repr(until), before])
        except RedisError:
            pass

    async def state(self, name: str) -> BreakerState:
        """`{"state": closed|open|half_open, "consecutive_failures", "calls", "failures", "open_until"}`."""
        await self.flush()
        try:
            raw = await self._redis.hgetall(self._keys(name)[0])  # type: ignore[misc]
        except RedisError:
            return {"state": "unknown", "consecutive_failures": 0, "calls": 0, "failures": 0,
                    "open_until": None}
        data = {_text(k): _text(v) for k, v in raw.items()}
        raw_until = data.get("opened_until")
        opened_until = float(raw_until) if raw_until else None
        state: CircuitState
        if opened_until is None:
            state = "closed"
        elif utcnow().timestamp() < opened_until:
            state = "open"
        else:
            state = "half_open"
        return {
            "state": state,
            "consecutive_failures": int(data.get("consecutive") or 0),
            "calls": int(data.get("calls") or 0),
            "failures": int(data.get("failures") or 0),
            "open_until": isoformat(datetime.fromtimestamp(opened_until, UTC)) if opened_until else None,
        }

    async def reset(self, name: str) -> None:
        """Forget everything about `name` (admin/tests)."""
        self._closed_until.pop(name, None)
        self._deferred.pop(name, None)
        await self._redis.delete(*self._keys(name))
