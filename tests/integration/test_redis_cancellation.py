"""A task cancelled while it talks to Redis is cancelled: the cancellation is never swallowed.

With a socket timeout, redis-py 5 bounds each write with `asyncio.wait_for`, which on Python 3.11
returns the write's result when the cancellation lands as the write completes (CPython gh-86296). A
pub/sub listener cancelled in its first milliseconds then went on listening (measured: one
cancellation in three, between 0.5 and 3 ms after its start), and closing the app waited out the
listener's bound. Muse's client has no socket timeout (`connect_redis`: its guard bounds each
command). Each test sweeps the moment of the cancellation across the first milliseconds, where the
writes are."""

from __future__ import annotations

import asyncio

import structlog

from repositories.pubsub import listen
from repositories.redis_client import connect_redis

MOMENTS_S = [i * 0.00025 for i in range(17)] * 2  # 0 to 4 ms, twice


async def test_a_listener_cancelled_while_it_subscribes_stops(servers):
    client = connect_redis(servers["redis_url"], timeout_s=10.0)
    log = structlog.stdlib.get_logger("muse.test")
    still_running = []
    try:
        for moment in MOMENTS_S:
            task = asyncio.create_task(listen(
                client, "cancel-test", ready=asyncio.Event(), confirm_s=2.0, on_message=lambda _: None,
                on_connected=lambda _: None, on_lost=lambda: None, log=log, lost_event="lost"))
            await asyncio.sleep(moment)
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=1.0)
            if not done:
                still_running.append(moment)
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
            else:
                assert task.cancelled()
        assert still_running == []
    finally:
        await client.aclose()


async def test_a_command_cancelled_as_it_is_sent_raises_the_cancellation(servers):
    client = connect_redis(servers["redis_url"], timeout_s=10.0)
    answered_anyway = []
    try:
        for moment in MOMENTS_S:
            connection = await client.connection_pool.get_connection("PING")  # a fresh one: its first write
            await connection.disconnect()
            await client.connection_pool.release(connection)
            task = asyncio.create_task(client.ping())  # not batched: sent on a connection of its own
            await asyncio.sleep(moment)
            if task.cancel():  # (False: it had already answered)
                outcome = (await asyncio.gather(task, return_exceptions=True))[0]
                if not isinstance(outcome, asyncio.CancelledError):
                    answered_anyway.append((moment, outcome))
        assert answered_anyway == []
        assert await client.ping() is True  # the client is still usable
    finally:
        await client.aclose()
