"""One Redis round trip for a chat request's rate-limit token and its first cache look (issue 28).

Counted on the real test Redis with MONITOR (commands a script runs show as `lua` and are not round
trips); the rate-limit semantics around it (every request takes one token, a refusal answers 429
before anything is charged, stored or recorded, invalid bodies count) over HTTP, both backends.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import redis.asyncio as aioredis

from repositories.conversations import ConversationDocument
from repositories.idempotency import IdempotencyRecordDocument
from tests.fakes.upstash import FakeUpstash
from tests.fixtures.identity import auth_headers

ROOMY = {"free": (1000, 0.0)}


async def charges(app, user_id: str) -> int:
    ops, _ = await app.extensions["container"].credits.service.ledger(user_id, limit=100)
    return sum(op.kind == "charge" for op in ops)


def body(text: str = "Hi there", **extra) -> dict:
    return {"messages": [{"role": "user", "content": text}], "store": False, **extra}


@contextlib.asynccontextmanager
async def monitored(redis_url: str):
    """The commands clients send to Redis meanwhile (name and keys), scripts' own commands left out."""
    seen: list[list[str]] = []
    client = aioredis.from_url(redis_url, decode_responses=True)
    ready = asyncio.Event()

    async def watch() -> None:
        async with client.monitor() as monitor:
            ready.set()
            async for command in monitor.listen():
                if command.get("client_type") != "lua":
                    seen.append(command["command"].split())

    task = asyncio.create_task(watch())
    await asyncio.wait_for(ready.wait(), 5)
    await asyncio.sleep(0.1)  # MONITOR is answered before it streams
    try:
        yield seen
    finally:
        await asyncio.sleep(0.3)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await client.aclose()


def round_trips(seen: list[list[str]]) -> list[str]:
    """The commands on the rate-limit bucket or the chat cache (the request's, in this test Redis)."""
    return [parts[0].upper() for parts in seen if any("rl:" in p or "muse:chat:" in p for p in parts[1:])]


async def test_a_cache_hit_is_one_redis_round_trip(chat_app_factory, servers):
    async with chat_app_factory(rate_limits_enabled=True, rate_limit_plans=ROOMY) as app:
        auth = await auth_headers(app, "rt_hit")
        client = app.test_client()
        question = body("one round trip, hit")
        assert (await client.post("/api/v1/chat", json=question, headers=auth)).status_code == 200
        async with monitored(servers["redis_url"]) as seen:
            response = await client.post("/api/v1/chat", json=question, headers=auth)
        assert response.status_code == 200 and (await response.get_json())["cached"] is True
        assert response.headers["RateLimit-Limit"] == "1000"
    # was EVALSHA (the bucket) + GET (the cache): two round trips
    assert round_trips(seen) == ["EVALSHA"], seen


async def test_an_uncached_answer_takes_its_token_and_lock_in_one_round_trip(chat_app_factory, servers):
    async with chat_app_factory(rate_limits_enabled=True, rate_limit_plans=ROOMY) as app:
        auth = await auth_headers(app, "rt_miss")
        async with monitored(servers["redis_url"]) as seen:
            response = await app.test_client().post("/v1/chat/completions", headers=auth,
                                                    json={"model": "default", **body("fresh")})
        assert response.status_code == 200, await response.get_data()
    # was EVALSHA (bucket), GET (cache), EVALSHA (cache or lock), then SET + DEL (one pipeline)
    assert round_trips(seen) == ["EVALSHA", "SET", "DEL"], seen


@pytest.mark.parametrize("backend", ["redis", "upstash"])
async def test_every_chat_request_takes_one_token_and_a_refusal_changes_nothing(
        chat_app_factory, servers, backend):
    with FakeUpstash(servers["redis_url"]) as fake:
        extra = {"upstash_redis_rest_url": fake.url, "upstash_redis_rest_token": fake.token}
        async with chat_app_factory(rate_limits_enabled=True, rate_limit_plans={"free": (4, 0.0)},
                                    **(extra if backend == "upstash" else {})) as app:
            c = app.extensions["container"]
            user = await c.identity.users.ensure_clerk_user("rt_limits")
            auth = await auth_headers(app, "rt_limits")
            client = app.test_client()
            answers = [await client.post("/api/v1/chat", json=body("limited", store=True), headers=auth),
                       await client.post("/api/v1/chat", json={"messages": []}, headers=auth),  # invalid
                       await client.post("/api/v1/chat", json=body("limited"), headers=auth),  # a hit
                       await client.post("/v1/chat/completions", headers=auth,
                                         json={"model": "default", **body("other")})]
            assert [a.status_code for a in answers] == [200, 422, 200, 200]
            assert [a.headers["RateLimit-Remaining"] for a in answers] == ["3", "2", "1", "0"]
            assert await charges(app, user.id) == 2  # the two uncached answers; the hit is free
            refused = [await client.post("/api/v1/chat", json=body("new, stored", store=True), headers=auth),
                       await client.post("/api/v1/chat", json={"messages": []}, headers=auth),
                       await client.post("/api/v1/chat", json=body("limited"), headers=auth),
                       await client.post("/api/v1/chat", json=body("stream", stream=True), headers=auth),
                       await client.post("/api/v1/chat", json=body("keyed", store=True),
                                         headers={**auth, "Idempotency-Key": "rt-key-1"}),
                       await client.post("/v1/chat/completions", headers=auth,
                                         json={"model": "default", **body("fresh")})]
            assert [r.status_code for r in refused] == [429] * 6
            for r in refused:
                assert r.headers["Retry-After"] and r.headers["RateLimit-Remaining"] == "0"
            problem = await refused[0].get_json()
            assert problem["code"] == "rate_limited"
            assert (await refused[-1].get_json())["error"]["code"] == "rate_limit_exceeded"
            # nothing charged, no conversation stored, no idempotency record kept for the refusals
            assert await charges(app, user.id) == 2
            assert await ConversationDocument.get_pymongo_collection().count_documents({}) == 1
            assert await IdempotencyRecordDocument.get_pymongo_collection().count_documents({}) == 0
