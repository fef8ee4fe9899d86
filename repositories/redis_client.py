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

The pool is bounded and pruned (`PrunedConnectionPool`): redis-py opens one connection per command
in flight and keeps every one it ever opened for the life of the process (no idle timeout exists
in redis-py: redis/redis-py#3430, #2992), so each latency spike's connections stayed (`make soak`:
2 → 24 Redis connections in ten minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from arq.connections import ArqRedis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import AbstractConnection, BlockingConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = structlog.stdlib.get_logger("muse.redis")
T = TypeVar("T")


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


async def _guarded(guard: RedisGuard, call: Callable[[], Awaitable[T]]) -> T:
    """`call()` within the guard: refused at once during the cool-down, bounded by `timeout_s`."""
    guard.check()
    try:
        async with asyncio.timeout(guard.timeout_s):
            result = await call()
    except (TimeoutError, RedisConnectionError, RedisTimeoutError, OSError) as exc:
        guard.failed(exc)
        raise RedisUnavailable(f"Redis did not answer: {type(exc).__name__}") from exc
    guard.succeeded()
    return result


class GuardedPipeline(Pipeline):
    """A pipeline of a `GuardedRedis`: what it sends (a command while WATCHing, then `execute`) goes
    through the same guard. redis-py's pipeline sends on its own, past the client's `execute_command`:
    arq's enqueue (WATCH, EXISTS, MULTI/EXEC) and the cache's writes ignored the cool-down."""

    guard: RedisGuard

    async def immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        return await _guarded(self.guard, lambda: super(GuardedPipeline, self).immediate_execute_command(
            *args, **options))

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        return await _guarded(self.guard, lambda: super(GuardedPipeline, self).execute(raise_on_error))


# Commands that neither block nor change the connection's state: sent together when several are issued
# in one turn of the event loop (`GuardedRedis`). The hot paths' commands are here: the rate limit's and
# the chat cache's EVALSHA, the cache's GET, SET and PUBLISH of invalidations.
BATCHED = frozenset({
    "EVALSHA", "GET", "MGET", "SET", "DEL", "UNLINK", "EXISTS", "EXPIRE", "PEXPIRE", "TTL", "PTTL",
    "INCR", "INCRBY", "DECRBY", "HGET", "HMGET", "HGETALL", "HSET", "HDEL", "HINCRBY", "HINCRBYFLOAT",
    "ZADD", "ZREM", "ZCARD", "ZSCORE", "SADD", "SREM", "SISMEMBER", "PUBLISH"})

_Call = tuple[tuple[Any, ...], dict[str, Any], "asyncio.Future[Any]"]


class _Turn:
    """The batchable commands issued in one turn of one event loop, in order."""

    __slots__ = ("calls", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, first: _Call) -> None:
        self.loop, self.calls = loop, [first]


class GuardedRedis(ArqRedis):
    """`ArqRedis` whose every command (and pipeline) is bounded by the guard and fails fast while
    Redis is down, and whose concurrent commands share round trips.

    redis-py sends each command on a connection of its own, taken from the pool and returned after
    the answer: ~130 µs of CPU a command when 32 are in flight, against ~15 µs each in one pipeline
    (measured here). Commands of `BATCHED` issued in the same turn of the event loop (the requests
    being served at once) therefore go to Redis as one non-transactional pipeline: one write, one
    connection, each caller getting its own answer or error, in order. Nothing is held back: the turn
    ends after the callbacks ready with it. A command issued while no round trip is under way is sent
    at once, as one alone in its turn is: waiting out the turn costs a turn of the loop (~45 µs of CPU
    a command, measured one at a time), and with nothing in flight the load is too light to share."""

    guard: RedisGuard

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn: _Turn | None = None
        self._sending: set[asyncio.Task[None]] = set()  # pipelines in flight (a task needs a reference)
        # since start: commands sent in a round trip of their own, commands sent in shared round trips,
        # and those shared round trips (`muse_redis_commands`; batchable commands only)
        self.counts = {"alone": 0, "shared": 0, "shared_round_trip": 0}
        self._in_flight = 0  # batchable round trips under way, alone or shared

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run one command within the guard's timeout (with the other commands of this turn)."""
        if args[0] not in BATCHED:
            return await self._one(args, options)
        self.guard.check()
        loop = asyncio.get_running_loop()
        turn = self._turn
        if turn is not None and turn.loop is not loop:
            turn = None  # (another event loop's: a test's)
        if turn is None and not self._in_flight:  # nothing under way: nobody to share with, sent at once
            return await self._alone(args, options)
        answer: asyncio.Future[Any] = loop.create_future()
        if turn is not None:
            turn.calls.append((args, options, answer))
            return await answer
        turn = self._turn = _Turn(loop, (args, options, answer))
        try:
            await asyncio.sleep(0)  # the commands issued by the callbacks of this turn join it
        except BaseException:  # this caller left (cancelled): the others are still sent
            if others := turn.calls[1:]:
                self._send(others)
            raise
        finally:
            if self._turn is turn:  # the turn is over: a later command opens the next
                self._turn = None
        if len(turn.calls) == 1:
            return await self._alone(args, options)
        self._send(turn.calls)
        return await answer

    async def _alone(self, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
        self.counts["alone"] += 1
        self._in_flight += 1
        try:
            return await self._one(args, options)
        finally:
            self._in_flight -= 1

    async def _one(self, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
        return await _guarded(self.guard, lambda: super(GuardedRedis, self).execute_command(*args, **options))

    def _send(self, calls: list[_Call]) -> None:
        """Send `calls` as one pipeline in a task of their own (a caller that leaves does not stop the
        others' answers)."""
        self.counts["shared"] += len(calls)
        self.counts["shared_round_trip"] += 1
        task = asyncio.get_running_loop().create_task(self._pipelined(calls))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _pipelined(self, calls: list[_Call]) -> None:
        pipe = self.pipeline(transaction=False)
        for args, options, _ in calls:
            pipe.execute_command(*args, **options)
        self._in_flight += 1
        try:
            answers = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # the whole round trip failed: every caller gets its error
            for _, _, answer in calls:
                if not answer.done():
                    answer.set_exception(exc if isinstance(exc, Exception) else RedisUnavailable(repr(exc)))
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._in_flight -= 1
        for (_, _, answer), result in zip(calls, answers, strict=True):
            if answer.done():  # its caller left
                continue
            if isinstance(result, Exception):
                answer.set_exception(result)
            else:
                answer.set_result(result)

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        """Close, once the shared round trips under way on this loop are answered (each is bounded by the
        guard): a command whose caller left (a PUBLISH, a SET) is not cut off by the closing pool."""
        loop = asyncio.get_running_loop()
        if sending := [task for task in self._sending if task.get_loop() is loop]:
            await asyncio.wait(sending, timeout=self.guard.timeout_s)
        await super().aclose(close_connection_pool)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> GuardedPipeline:
        pipe = GuardedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.guard = self.guard
        return pipe


class PrunedConnectionPool(BlockingConnectionPool):
    """redis-py's blocking pool (at most `max_connections`: a command beyond them waits for one to be
    released) that also closes the connections idle in it for longer than `max_idle_s`.

    A connection is idle from its release to the pool; a task of the pool's event loop (started by
    the first command, stopped by `disconnect`, which the client's `aclose` calls) removes the idle
    ones from the pool every `min(max_idle_s, 10) / 2` seconds and closes them. The next command
    beyond the connections left opens a new one, as after any other disconnection."""

    def __init__(self, *, max_idle_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_idle_s = max_idle_s
        self._idle_since: dict[AbstractConnection, float] = {}
        self._pruner: asyncio.Task[None] | None = None

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        loop = asyncio.get_running_loop()
        if self._pruner is None or self._pruner.done() or self._pruner.get_loop() is not loop:
            self._pruner = loop.create_task(self._prune_forever(), name="redis-pool-pruner")
        return await super().get_connection(*args, **kwargs)

    async def release(self, connection: AbstractConnection) -> None:
        self._idle_since[connection] = time.monotonic()  # before it can be taken again
        await super().release(connection)

    async def prune_idle(self) -> int:
        """Close the connections idle for longer than `max_idle_s`; how many were closed."""
        cutoff = time.monotonic() - self.max_idle_s
        idle = [c for c in self._available_connections if self._idle_since.get(c, cutoff + 1) <= cutoff]
        for connection in idle:  # out of the pool before the first await: no command can take one now
            self._available_connections.remove(connection)
            self._idle_since.pop(connection, None)
        await asyncio.gather(*(c.disconnect() for c in idle), return_exceptions=True)
        return len(idle)

    async def _prune_forever(self) -> None:
        while True:
            await asyncio.sleep(min(self.max_idle_s, 10.0) / 2)
            if closed := await self.prune_idle():
                log.debug("redis_pool_pruned", closed=closed, kept=len(self._available_connections),
                          in_use=len(self._in_use_connections))

    async def disconnect(self, inuse_connections: bool = True) -> None:
        pruner, self._pruner = self._pruner, None
        if pruner is not None and not pruner.done():
            if pruner.get_loop() is asyncio.get_running_loop():
                pruner.cancel()
                await asyncio.wait([pruner])
            else:  # its loop is gone (a test's): nothing runs it any more
                with contextlib.suppress(RuntimeError):
                    pruner.cancel()
        await super().disconnect(inuse_connections)


def connect_redis(url: str, *, timeout_s: float = 1.0, cooldown_s: float = 1.0, max_connections: int = 100,
                  max_idle_s: float = 60.0) -> GuardedRedis:
    """A guarded client for `url`: every command and pipeline bounded by `timeout_s` (the guard), connects
    too, no retries; its pool holds at most `max_connections` and closes those idle for `max_idle_s`
    (REDIS_MAX_CONNECTIONS, REDIS_MAX_IDLE_S). Waiting for a connection counts within the command's
    `timeout_s`.

    No socket timeout (even one in the URL): the guard bounds each command already, and redis-py's
    would bound it twice, at a cost. It runs each write in `asyncio.wait_for`, a task of its own, which
    on Python 3.11 loses a cancellation that lands as the write completes (CPython gh-86296; measured:
    a pub/sub listener cancelled in its first milliseconds went on listening one time in three), and
    each read in a timeout of its own: ~85 µs of CPU a command sent alone (median of ten rounds,
    bench/bench_redis_write.py). What runs outside the guard bounds itself: the pub/sub listeners'
    subscribe and reads (repositories/pubsub.py), connecting (`socket_connect_timeout`) and closing."""
    pool = PrunedConnectionPool.from_url(
        url, max_idle_s=max_idle_s, max_connections=max_connections, timeout=timeout_s,
        socket_connect_timeout=timeout_s, health_check_interval=30)
    pool.connection_kwargs["socket_timeout"] = None  # (a URL's query string wins over the arguments)
    client = GuardedRedis(pool)
    client.auto_close_connection_pool = True  # it owns its pool: `aclose` closes it (as `from_pool` does)
    client.guard = RedisGuard(timeout_s=timeout_s, cooldown_s=cooldown_s)
    return client
