"""The process's Redis client: every command bounded, and fast failure while Redis is known to be down.

A hung Redis (SIGSTOP, a full network buffer, a stuck failover) never answers: without
bounds each command would wait for the socket timeout, one after the other, and a request
touching Redis four times would take four timeouts. Here each command waits at most
`timeout_s`; a command that times out or cannot connect marks Redis unreachable for
`cooldown_s`, during which every command fails at once with `RedisUnavailable` (a
`redis.exceptions.ConnectionError`, so callers that fall back on connection errors keep
doing so). The first command after the cool-down tries the server again; Redis coming
back is therefore noticed within `cooldown_s`, without restarting anything.

Each use decides what a failure means (the README's table): caches and limits fail open,
the job queue fails closed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from arq.connections import ArqRedis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = structlog.stdlib.get_logger("muse.redis")


class RedisUnavailable(RedisConnectionError):
    """Redis did not answer (or was found unreachable moments ago)."""


class RedisGuard:
    """Shared state of one process's Redis clients: unreachable until `open_until`."""

    def __init__(self, *, timeout_s: float, cooldown_s: float) -> None:
        self.timeout_s, self.cooldown_s = timeout_s, cooldown_s
        self.open_until = 0.0

    def check(self) -> None:
        """Raise at once while Redis is marked unreachable."""
        if time.monotonic() < self.open_until:
            raise RedisUnavailable("Redis is unreachable (failing fast during the cool-down)")

    def failed(self, error: BaseException) -> None:
        """Mark Redis unreachable for the cool-down."""
        if time.monotonic() >= self.open_until:
            log.warning("redis_unreachable", error=type(error).__name__, cooldown_s=self.cooldown_s)
        self.open_until = time.monotonic() + self.cooldown_s

    def succeeded(self) -> None:
        """A command got an answer."""
        self.open_until = 0.0


class GuardedRedis(ArqRedis):
    """`ArqRedis` whose every command is bounded by the guard and fails fast while Redis is down."""

    guard: RedisGuard

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run one command within the guard's timeout."""
        self.guard.check()
        try:
            async with asyncio.timeout(self.guard.timeout_s):
                result = await super().execute_command(*args, **options)
        except (TimeoutError, RedisConnectionError, RedisTimeoutError, OSError) as exc:
            self.guard.failed(exc)
            raise RedisUnavailable(f"Redis did not answer: {type(exc).__name__}") from exc
        self.guard.succeeded()
        return result


def connect_redis(url: str, *, timeout_s: float = 1.0, cooldown_s: float = 1.0) -> GuardedRedis:
    """A guarded client for `url`: connect and socket timeouts of `timeout_s`, no retries."""
    client = GuardedRedis.from_url(
        url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, health_check_interval=30)
    client.guard = RedisGuard(timeout_s=timeout_s, cooldown_s=cooldown_s)
    return client
