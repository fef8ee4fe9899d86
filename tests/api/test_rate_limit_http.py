"""Rate limits over HTTP: shared buckets across instances, headers, exemptions, backends."""

from __future__ import annotations

import asyncio

import pytest

from app import create_app
from tests.conftest import app_instances, make_settings
from tests.fakes.upstash import FakeUpstash
from tests.fixtures.identity import make_token

NO_REFILL = {"free": (10, 0.0), "anonymous": (3, 0.0)}


async def _two_instances_split_thirty_requests(settings) -> list[int]:
    async with app_instances(settings) as apps:
        clients = [a.test_client() for a in apps]
        headers = {"Authorization": f"Bearer {make_token('user_bucket')}"}
        await apps[0].extensions["container"].identity.users.ensure_clerk_user("user_bucket")
        responses = await asyncio.gather(
            *(clients[i % 2].get("/api/v1/me", headers=headers) for i in range(30)))
    return responses


@pytest.mark.parametrize("backend", ["redis", "upstash"])
async def test_two_instances_share_one_bucket(servers, tmp_path, backend):
    with FakeUpstash(servers["redis_url"]) as fake:
        extra = {"upstash_redis_rest_url": fake.url, "upstash_redis_rest_token": fake.token}
        settings = make_settings(servers, tmp_path, rate_limits_enabled=True, rate_limit_plans=NO_REFILL,
                                 **(extra if backend == "upstash" else {}))
        responses = await _two_instances_split_thirty_requests(settings)
        calls = fake.calls
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 10 and statuses.count(429) == 20
    assert calls == (30 if backend == "upstash" else 0)
    for response in responses:
        assert response.headers["RateLimit-Limit"] == "10"
        assert response.headers.get("RateLimit-Remaining") and response.headers.get("RateLimit-Reset")
    refused = [r for r in responses if r.status_code == 429]
    body = await refused[0].get_json()
    assert body["code"] == "rate_limited" and refused[0].content_type == "application/problem+json"
    assert all(r.headers["Retry-After"] and r.headers["RateLimit-Remaining"] == "0" for r in refused)
    assert all("Retry-After" not in r.headers for r in responses if r.status_code == 200)


@pytest.fixture
async def limited_app(servers, tmp_path):
    settings = make_settings(servers, tmp_path, rate_limits_enabled=True, rate_limit_plans=NO_REFILL)
    application = create_app(settings)
    async with application.test_app():
        yield application
        await application.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)


async def test_anonymous_callers_are_limited_per_ip(limited_app):
    client = limited_app.test_client()
    statuses = [(await client.get("/api/v1/unknown-route")).status_code for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


async def test_health_and_webhooks_are_never_limited(limited_app):
    client = limited_app.test_client()
    for _ in range(6):
        for path in ("/health", "/health/live"):
            response = await client.get(path)
            assert response.status_code in (200, 503) and "RateLimit-Limit" not in response.headers
        hook = await client.post("/api/v1/webhooks/clerk", data="{}")
        assert hook.status_code != 429 and "RateLimit-Limit" not in hook.headers


async def test_each_principal_has_its_own_bucket(limited_app):
    client = limited_app.test_client()
    a = {"Authorization": f"Bearer {make_token('user_a')}"}
    b = {"Authorization": f"Bearer {make_token('user_b')}"}
    a_statuses = [(await client.get("/api/v1/me", headers=a)).status_code for _ in range(11)]
    assert a_statuses.count(429) == 1
    assert (await client.get("/api/v1/me", headers=b)).status_code == 200


async def test_switch_off_means_no_limits_and_no_headers(client):
    headers = {"Authorization": f"Bearer {make_token('user_free')}"}
    responses = [await client.get("/api/v1/me", headers=headers) for _ in range(15)]
    assert all(r.status_code == 200 and "RateLimit-Limit" not in r.headers for r in responses)
