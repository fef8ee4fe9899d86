"""Key-value store behind the chat response cache and coalescing locks.

Two implementations of `services.ports.cache.KeyValueStore`: redis-py (`REDIS_URL`) and Upstash REST
(`UPSTASH_REDIS_REST_URL`). Values are UTF-8 strings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.stdlib.get_logger("muse.chat_cache")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisKeyValueStore:
    """`KeyValueStore` on redis-py asyncio. Fails open: with Redis down or hung, a read is a miss,
    a write is skipped and a lock is granted (no coalescing), so chat keeps answering (uncached)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

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

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()
