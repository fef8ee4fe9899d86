"""Token buckets in Redis: one Lua script, run by redis-py or over Upstash REST (EVAL)."""

from __future__ import annotations

from typing import Any

# The bucket's refill and take, on KEYS[1] with ARGV[1..3] (burst, refill/s, cost): sets `allowed` and
# `tokens`. Shared by TAKE_SCRIPT and the chat cache's take-and-claim (repositories/chat_cache.py).
TAKE_BODY = """
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if rate > 0 and now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
local ttl = 86400
if rate > 0 then
  ttl = math.ceil(burst / rate) + 1
end
redis.call('EXPIRE', key, ttl)
"""
TAKE_SCRIPT = "pcall(redis.replicate_commands)\n" + TAKE_BODY + "return {allowed, tostring(tokens)}\n"


def parse_take(reply: Any) -> tuple[bool, float]:
    """(allowed, tokens left) from a script's {allowed, tokens} reply."""
    allowed, tokens = reply[0], reply[1]
    if isinstance(tokens, bytes):
        tokens = tokens.decode()
    return int(allowed) == 1, float(tokens)


class RedisBucketStore:
    """Buckets in Redis through redis-py (EVALSHA with automatic script loading)."""

    def __init__(self, redis: Any) -> None:
        self._script = redis.register_script(TAKE_SCRIPT)

    async def take(self, key: str, *, burst: int, refill_per_s: float, cost: int = 1) -> tuple[bool, float]:
        """Atomically refill and take `cost` tokens."""
        return parse_take(await self._script(keys=[key], args=[burst, refill_per_s, cost]))


class UpstashBucketStore:
    """Buckets in Upstash Redis over its REST API (`EVAL`)."""

    def __init__(self, url: str, token: str, **options: Any) -> None:
        from upstash_redis.asyncio import Redis

        options.setdefault("allow_telemetry", False)
        options.setdefault("rest_retry_interval", 0.2)
        self._client = Redis(url=url, token=token, **options)

    async def take(self, key: str, *, burst: int, refill_per_s: float, cost: int = 1) -> tuple[bool, float]:
        """Atomically refill and take `cost` tokens."""
        reply = await self._client.eval(TAKE_SCRIPT, keys=[key], args=[burst, refill_per_s, cost])  # type: ignore[list-item]
        return parse_take(reply)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.close()
