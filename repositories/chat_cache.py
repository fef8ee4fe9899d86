"""Key-value store behind the chat response cache and coalescing locks.

Two implementations of `services.platform.ports.cache.KeyValueStore`: redis-py (`REDIS_URL`) and Upstash REST
(`UPSTASH_REDIS_REST_URL`). Values are UTF-8 strings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from repositories.rate_limit import TAKE_BODY, parse_take
from services.platform.ports.rate_limit import Take

log = structlog.stdlib.get_logger("muse.chat_cache")


# One round trip for "the cached answer, or the coalescing lock" (issue 12): atomic, so a caller
# that gets the lock knows the entry was missing at that moment and needs no second look.
GET_OR_ACQUIRE = """
local value = redis.call('GET', KEYS[1])
if value then return {1, value} end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return {0, 1} end
return {0, 0}
"""


# The request's rate-limit token and its first cache look in one round trip (issue 28): the bucket
# (KEYS[1], ARGV[1..3]) as repositories/rate_limit.py takes it; only when allowed, GET_OR_ACQUIRE on
# KEYS[2] and KEYS[3] (lock TTL ARGV[4]). A refused request touches neither the entry nor the lock.
TAKE_AND_CLAIM = "pcall(redis.replicate_commands)\n" + TAKE_BODY + """
if allowed == 0 then return {0, tostring(tokens), 0, 0} end
local value = redis.call('GET', KEYS[2])
if value then return {1, tostring(tokens), 1, value} end
if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[4]) then return {1, tostring(tokens), 0, 1} end
return {1, tostring(tokens), 0, 0}
"""


def _taken(reply: Any) -> tuple[tuple[bool, float] | None, str | None, bool]:
    taken = parse_take(reply[:2])
    value, held = _claimed(reply[2:])
    return taken, value, held


def _take_args(take: Take, key: str, lock_key: str, ttl_ms: int) -> tuple[list[str], list[Any]]:
    return [take.key, key, lock_key], [take.burst, take.refill_per_s, take.cost, max(1, int(ttl_ms))]


def _claimed(reply: Any) -> tuple[str | None, bool]:
    found, value = reply[0], reply[1]
    return (_text(value), False) if int(found) == 1 else (None, int(value) == 1)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisKeyValueStore:
    """`KeyValueStore` on redis-py asyncio. Fails open: with Redis down or hung, a read is a miss,
    a write is skipped and a lock is granted (no coalescing), so chat keeps answering (uncached)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._get_or_acquire = redis.register_script(GET_OR_ACQUIRE)
        self._take_and_claim = redis.register_script(TAKE_AND_CLAIM)  # EVALSHA, loaded again on NOSCRIPT

    async def get(self, key: str) -> str | None:
        """The value at `key`, or None (also when Redis does not answer)."""
        try:
            return _text(await self._redis.get(key))
        except RedisError as exc:
            log.warning("chat_cache_unavailable", op="get", error=type(exc).__name__)
            return None

    async def set(self, key: str, value: str, *, ttl_s: int) -> None:
        """Store `value` for `ttl_s` seconds (skipped when Redis does not answer)."""
        try:
            await self._redis.set(key, value, ex=max(1, int(ttl_s)))
        except RedisError as exc:
            log.warning("chat_cache_unavailable", op="set", error=type(exc).__name__)

    async def acquire(self, key: str, *, ttl_ms: int) -> bool:
        """SET NX PX; True (lead without a lock) when Redis does not answer."""
        try:
            return bool(await self._redis.set(key, "1", nx=True, px=max(1, int(ttl_ms))))
        except RedisError as exc:
            log.warning("chat_cache_unavailable", op="acquire", error=type(exc).__name__)
            return True

    async def release(self, key: str) -> None:
        """Drop `key` (it expires by itself when Redis does not answer)."""
        try:
            await self._redis.delete(key)
        except RedisError:
            pass

    async def get_or_acquire(self, key: str, lock_key: str, *, ttl_ms: int) -> tuple[str | None, bool]:
        """One script: the value, or SET NX PX on the lock; (None, True) when Redis does not answer."""
        try:
            return _claimed(await self._get_or_acquire(keys=[key, lock_key], args=[max(1, int(ttl_ms))]))
        except RedisError as exc:
            log.warning("chat_cache_unavailable", op="get_or_acquire", error=type(exc).__name__)
            return None, True

    async def take_and_claim(self, take: Take, key: str, lock_key: str, *, ttl_ms: int
                             ) -> tuple[tuple[bool, float] | None, str | None, bool]:
        """One script: the rate-limit take, then (allowed) the value or the lock; fails open."""
        keys, args = _take_args(take, key, lock_key, ttl_ms)
        try:
            return _taken(await self._take_and_claim(keys=keys, args=args))
        except RedisError as exc:
            log.warning("chat_cache_unavailable", op="take_and_claim", error=type(exc).__name__)
            return None, None, True

    async def set_and_release(self, key: str, value: str, *, ttl_s: int, lock_key: str) -> None:
        """SET EX and DEL in one pipeline (skipped when Redis does not answer: the lock expires)."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.set(key, value, ex=max(1, int(ttl_s)))
                pipe.delete(lock_key)
                await pipe.execute()
        except RedisError as exc:
            log.warning("chat_cache_unavailable", op="set", error=type(exc).__name__)


class UpstashKeyValueStore:
    """`KeyValueStore` on the Upstash REST API (`upstash_redis.asyncio.Redis`). Each call is bounded
    by `timeout_s` and fails open like `RedisKeyValueStore`."""

    def __init__(self, client: Any, *, timeout_s: float = 1.0) -> None:
        self._client, self._timeout = client, timeout_s

    @classmethod
    def from_url(cls, url: str, token: str) -> UpstashKeyValueStore:
        """A store talking to `url` with `token`."""
        from upstash_redis.asyncio import Redis as UpstashRedis

        return cls(UpstashRedis(url=url, token=token, allow_telemetry=False, rest_retry_interval=0.2))

    async def _call(self, op: str, call: Callable[[], Awaitable[Any]], fallback: Any) -> Any:
        try:
            async with asyncio.timeout(self._timeout):
                return await call()
        except Exception as exc:  # the REST client raises its own and aiohttp's errors
            log.warning("chat_cache_unavailable", op=op, error=type(exc).__name__)
            return fallback

    async def get(self, key: str) -> str | None:
        """The value at `key`, or None (also when Upstash does not answer)."""
        return _text(await self._call("get", lambda: self._client.get(key), None))

    async def set(self, key: str, value: str, *, ttl_s: int) -> None:
        """Store `value` for `ttl_s` seconds (skipped when Upstash does not answer)."""
        await self._call("set", lambda: self._client.set(key, value, ex=max(1, int(ttl_s))), None)

    async def acquire(self, key: str, *, ttl_ms: int) -> bool:
        """SET NX PX; True (lead without a lock) when Upstash does not answer."""
        return bool(await self._call(
            "acquire", lambda: self._client.set(key, "1", nx=True, px=max(1, int(ttl_ms))), True))

    async def release(self, key: str) -> None:
        """Drop `key`."""
        await self._call("release", lambda: self._client.delete(key), None)

    async def get_or_acquire(self, key: str, lock_key: str, *, ttl_ms: int) -> tuple[str | None, bool]:
        """The same script over REST (EVAL); (None, True) when Upstash does not answer."""
        reply = await self._call("get_or_acquire", lambda: self._client.eval(
            GET_OR_ACQUIRE, keys=[key, lock_key], args=[max(1, int(ttl_ms))]), None)
        return (None, True) if reply is None else _claimed(reply)

    async def take_and_claim(self, take: Take, key: str, lock_key: str, *, ttl_ms: int
                             ) -> tuple[tuple[bool, float] | None, str | None, bool]:
        """The same script over REST (EVAL); (None, None, True) when Upstash does not answer."""
        keys, args = _take_args(take, key, lock_key, ttl_ms)
        reply = await self._call("take_and_claim",
                                 lambda: self._client.eval(TAKE_AND_CLAIM, keys=keys, args=args), None)
        return (None, None, True) if reply is None else _taken(reply)

    async def set_and_release(self, key: str, value: str, *, ttl_s: int, lock_key: str) -> None:
        """SET EX then DEL in one REST pipeline."""
        async def both() -> None:
            pipe = self._client.pipeline()
            pipe.set(key, value, ex=max(1, int(ttl_s)))
            pipe.delete(lock_key)
            await pipe.exec()

        await self._call("set", both, None)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()
