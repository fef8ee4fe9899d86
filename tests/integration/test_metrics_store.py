"""RedisMetrics against a real Redis: recorders of several processes add up, histograms are cumulative."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from repositories.metrics import RedisMetrics


def samples(text: str) -> dict:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
async def redis(servers):
    client = Redis.from_url(servers["redis_url"])
    yield client
    await client.aclose()


async def test_two_recorders_on_one_key_add_up_and_histograms_are_cumulative(redis):
    key = f"test:metrics:{uuid.uuid4().hex}"
    web, worker = RedisMetrics(redis, key=key), RedisMetrics(redis, key=key)
    web.http_request("GET", "/api/v1/images/<image_id>", 200, 0.004)
    web.http_request("GET", "/api/v1/images/<image_id>", 200, 0.3)
    worker.http_request("GET", "/api/v1/images/<image_id>", 200, 50.0)
    worker.credits_refunded(3)
    web.credits_refunded(2)
    await worker.flush()  # the web recorder is flushed by its own scrape
    body, content_type = await web.render([])
    got = samples(body.decode())
    route = ("route", "/api/v1/images/<image_id>")

    def bucket(le: str) -> float:
        return got[("muse_http_request_duration_seconds_bucket", frozenset({route, ("le", le)}))]

    assert content_type.startswith("text/plain")
    assert got[("muse_http_requests_total", frozenset({("method", "GET"), route, ("status", "200")}))] == 3
    assert (bucket("0.005"), bucket("0.25"), bucket("0.5"), bucket("30.0"), bucket("+Inf")) == (1, 1, 2, 2, 3)
    assert got[("muse_http_request_duration_seconds_sum", frozenset({route}))] == pytest.approx(50.304)
    assert got[("muse_credits_refunded_total", frozenset())] == 5
    assert got[("muse_credits_charged_total", frozenset())] == 0
    await redis.delete(key)


async def test_a_failed_flush_keeps_the_counts_for_the_next_one(servers):
    broken = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    metrics = RedisMetrics(broken, key="unused")
    metrics.job("generate_image", "failed")
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises for a refused connection
        await metrics.flush()
    await broken.aclose()
    good = Redis.from_url(servers["redis_url"])
    key = f"test:metrics:{uuid.uuid4().hex}"
    metrics._redis, metrics.key = good, key  # the same recorder, Redis back
    got = samples((await metrics.render([]))[0].decode())
    assert got[("muse_jobs_total", frozenset({("kind", "generate_image"), ("outcome", "failed")}))] == 1
    await good.delete(key)
    await good.aclose()
