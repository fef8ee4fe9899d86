"""Commands issued in one turn of the event loop share one round trip (`GuardedRedis`, issue 28).

redis-py sends each command on a connection of its own: 32 requests served at once meant 32
connections taken from the pool, 32 writes and 32 reads. The client now sends the batchable commands
of one turn as one pipeline. Counted as Redis sees it (`CLIENT LIST`, by the client name the pool's
connections carry), with each caller's answer checked, errors included; a hung Redis fails them all
within the bound (`test_redis_guard.py`)."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
import redis as redis_sync
from redis.exceptions import ResponseError

from repositories.redis_client import connect_redis
from tests.conftest import app_instances, make_settings
from tests.fixtures.identity import auth_headers


def _named(url: str) -> tuple[str, str]:
    name = f"batch-{uuid.uuid4().hex[:10]}"
    return name, f"{url}{'&' if '?' in url else '?'}client_name={name}"


def _connections(url: str, name: str) -> int:
    probe = redis_sync.Redis.from_url(url)
    try:
        return sum(1 for client in probe.client_list() if client.get("name") == name)
    finally:
        probe.close()


async def test_commands_issued_together_take_one_connection_and_each_caller_gets_its_own_answer(servers):
    name, url = _named(servers["redis_url"])
    client = connect_redis(url, timeout_s=10.0)
    prefix = f"batch:{uuid.uuid4().hex}"
    add = client.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    try:
        await client.mset({f"{prefix}:{i}": str(i) for i in range(20)})
        await client.hset(f"{prefix}:hash", mapping={"a": "1"})
        assert await add(keys=[f"{prefix}:sum"], args=[0]) == 0  # loaded (SCRIPT LOAD is not batched)
        before = dict(client.counts)
        answers = await asyncio.gather(
            *(client.get(f"{prefix}:{i}") for i in range(20)),
            client.get(f"{prefix}:hash"),  # WRONGTYPE: this caller's error only
            client.set(f"{prefix}:new", "x"), client.get(f"{prefix}:new"),  # in the order issued
            add(keys=[f"{prefix}:sum"], args=[5]), add(keys=[f"{prefix}:sum"], args=[7]),
            client.hmget(f"{prefix}:hash", ["a", "b"]),
            return_exceptions=True)
        assert answers[:20] == [str(i).encode() for i in range(20)]
        assert isinstance(answers[20], ResponseError) and "WRONGTYPE" in str(answers[20])
        assert answers[21:] == [True, b"x", 5, 12, [b"1", None]]
        # the first, with nothing in flight, was sent at once; the other 25 shared one round trip
        assert _connections(servers["redis_url"], name) <= 2  # 26 before: one per command in flight
        assert {k: v - before[k] for k, v in client.counts.items()} == {
            "alone": 1, "shared": 25, "shared_round_trip": 1}
    finally:
        await client.delete(*[f"{prefix}:{i}" for i in range(20)], f"{prefix}:hash", f"{prefix}:new",
                            f"{prefix}:sum")
        await client.aclose()


@pytest.fixture
async def client(servers):
    """A guarded client; the keys under `client.test_prefix` are removed after the test."""
    client = connect_redis(servers["redis_url"], timeout_s=10.0)
    client.test_prefix = f"batch:{uuid.uuid4().hex}"
    yield client
    await client.aclose()  # (again, for a test that closed it: harmless)
    probe = redis_sync.Redis.from_url(servers["redis_url"])
    try:
        if keys := list(probe.scan_iter(f"{client.test_prefix}*")):
            probe.delete(*keys)
    finally:
        probe.close()


async def test_a_script_redis_lost_is_loaded_again_for_every_caller_of_the_turn(client):
    key = f"{client.test_prefix}:script"
    add = client.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert await add(keys=[key], args=[1]) == 1
    await client.script_flush()  # as after a Redis restart: EVALSHA answers NOSCRIPT
    answers = await asyncio.gather(*(add(keys=[key], args=[1]) for _ in range(8)))
    assert sorted(answers) == list(range(2, 10))  # every caller ran it once, none twice
    assert int(await client.get(key)) == 9


async def test_a_caller_that_leaves_does_not_stop_the_answers_of_the_others(client):
    key = f"{client.test_prefix}:leave"
    await client.set(key, "v")
    for leaving in (0, 1, 3):  # the first (sent at once), the one that opened the turn, one that joined it
        calls = [asyncio.create_task(client.get(key)) for _ in range(5)]
        await asyncio.sleep(0)  # each has issued its command: the second waits out the turn
        calls[leaving].cancel()
        answers = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 5)
        assert isinstance(answers[leaving], asyncio.CancelledError)
        assert [a for i, a in enumerate(answers) if i != leaving] == [b"v"] * 4
    assert await client.get(key) == b"v"  # the client is still usable


async def test_closing_the_client_lets_the_shared_round_trip_under_way_land(client, servers):
    keys = [f"{client.test_prefix}:close:{i}" for i in range(8)]
    calls = [asyncio.create_task(client.set(key, "v")) for key in keys]
    await asyncio.sleep(0)  # each has issued its command
    await asyncio.sleep(0)  # the turn is over: its pipeline is under way
    for call in calls:  # every caller leaves (a request cancelled at shutdown)
        call.cancel()
    await client.aclose()
    probe = redis_sync.Redis.from_url(servers["redis_url"])
    try:
        # the first went at once, on its own round trip, which its caller's leaving may stop
        assert probe.mget(keys[1:]) == [b"v"] * 7
    finally:
        probe.close()


async def test_requests_served_at_once_share_round_trips_and_the_metrics_say_so(servers, tmp_path):
    settings = make_settings(servers, tmp_path, chat_providers=["local"],
                             rate_limits_enabled=True,  # a Redis script on every request
                             rate_limit_plans={"free": (100_000, 1000.0)})
    async with app_instances(settings, 1) as (app,):
        client = app.test_client()
        headers = await auth_headers(app, "user_redis_batching")
        answers = await asyncio.gather(*(client.get("/api/v1/me", headers=headers) for _ in range(40)))
        assert {a.status_code for a in answers} == {200}
        metrics = await (await client.get("/metrics")).get_data(as_text=True)
    sent = {m[1]: float(m[2]) for m in re.finditer(r'^muse_redis_commands\{sent="(\w+)"\} ([\d.e+]+)$',
                                                    metrics, re.M)}
    assert set(sent) == {"alone", "shared", "shared_round_trip"}, metrics
    assert sent["shared"] >= 2 * sent["shared_round_trip"] > 0, sent  # round trips carried several
