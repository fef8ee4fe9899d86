"""GET /metrics (contract §13): access rules, URL-rule labels, and counters shared by two processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from app import create_app
from tests.conftest import make_settings
from tests.fixtures.chat import chat_settings
from tests.fixtures.identity import auth_headers

ROOT = Path(__file__).resolve().parents[2]

Samples = dict[tuple[str, frozenset], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, keyed by (sample name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@asynccontextmanager
async def started(settings):
    """A started app on `settings`; its database is dropped afterwards."""
    app = create_app(settings)
    async with app.test_app():
        yield app
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)


async def scrape(app, headers: dict | None = None) -> Samples:
    response = await app.test_client().get("/metrics", headers=headers or {})
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return parse(await response.get_data(as_text=True))


async def test_metrics_token_is_required_when_set(servers, tmp_path):
    settings = make_settings(servers, tmp_path, metrics_token=SecretStr("s3cret-scrape"))
    async with started(settings) as app:
        client = app.test_client()
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        for refused in (missing, wrong):
            assert refused.status_code == 401
            assert refused.content_type == "application/problem+json"
            assert (await refused.get_json())["code"] == "unauthorized"
        assert right.status_code == 200
        assert "muse_http_requests_total" in await right.get_data(as_text=True)


async def test_without_token_metrics_are_served_in_test_and_404_in_production(servers, tmp_path, app):
    assert (await app.test_client().get("/metrics")).status_code == 200
    production = make_settings(servers, tmp_path, app_env="production")
    async with started(production) as prod_app:
        response = await prod_app.test_client().get("/metrics")
        assert response.status_code == 404 and (await response.get_json())["code"] == "not_found"


async def test_switched_off_metrics_answer_404(servers, tmp_path):
    async with started(make_settings(servers, tmp_path, metrics_enabled=False)) as app:
        assert (await app.test_client().get("/metrics")).status_code == 404


async def test_metrics_is_not_rate_limited_nor_in_the_openapi_document(servers, tmp_path):
    async with started(make_settings(servers, tmp_path, rate_limits_enabled=True)) as app:
        client = app.test_client()
        answers = [await client.get("/metrics") for _ in range(30)]  # anonymous burst is 20
        assert {r.status_code for r in answers} == {200}
        assert all("RateLimit-Limit" not in r.headers for r in answers)
        paths = (await (await client.get("/openapi.json")).get_json())["paths"]
        assert "/metrics" not in paths and "/api/v1/plans" in paths


async def test_http_metrics_are_labelled_by_url_rule_never_the_raw_path(app):
    client = app.test_client()
    headers = await auth_headers(app, "rule_user")
    for image_id in ("img_aaa111", "img_bbb222"):
        assert (await client.get(f"/api/v1/images/{image_id}", headers=headers)).status_code == 404
    assert (await client.get("/no/such/path/xyz")).status_code == 404
    response = await client.get("/metrics")
    text = await response.get_data(as_text=True)
    assert "img_aaa111" not in text and "/no/such/path" not in text
    samples = parse(text)
    assert value(samples, "muse_http_requests_total", method="GET", route="/api/v1/images/<image_id>",
                 status="404") == 2
    assert value(samples, "muse_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert value(samples, "muse_http_request_duration_seconds_count", route="/api/v1/images/<image_id>") == 2
    assert value(samples, "muse_http_request_duration_seconds_bucket", route="/api/v1/images/<image_id>",
                 le="+Inf") == 2
    assert value(samples, "muse_queue_depth") == 0
    assert value(samples, "muse_credits_charged_total") == 0  # unlabelled counters exist from the start


def _spawn_worker(settings, fake_replicate) -> subprocess.Popen:
    env = {
        **os.environ,
        "APP_ENV": "test", "MONGODB_URI": settings.mongodb_uri, "REDIS_URL": settings.redis_url,
        "MONGODB_DB": settings.mongodb_db, "QUEUE_NAME": settings.queue_name,
        "IMAGE_PROVIDERS": "replicate", "REPLICATE_API_TOKEN": fake_replicate.token,
        "REPLICATE_BASE_URL": fake_replicate.url, "MEDIA_DIR": str(settings.media_dir),
        "VAR_DIR": str(settings.var_dir), "CHAT_PROVIDERS": "local", "METRICS_FLUSH_S": "0.1",
        "LOG_LEVEL": "WARNING", "NO_PROXY": "127.0.0.1,localhost",
    }
    return subprocess.Popen([sys.executable, "-m", "app", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_counters_move_and_a_worker_process_shares_its_numbers(
        servers, tmp_path, settings, fake_gemini, fake_openai, fake_replicate):
    """Chat, cache hit, failed provider call and refund in this process; a failed image job (and its
    refund) in a separate `python -m app worker` process; one scrape of this process shows both."""
    s = chat_settings(servers, tmp_path, fake_gemini, fake_openai, breaker_failure_threshold=10,
                      image_providers=["replicate"], replicate_api_token=SecretStr(fake_replicate.token),
                      replicate_base_url=fake_replicate.url)
    async with started(s) as app:
        client = app.test_client()
        headers = await auth_headers(app, "metrics_user")
        before = await scrape(app)

        def chat(text: str):
            return client.post("/api/v1/chat", headers=headers,
                               json={"messages": [{"role": "user", "content": text}]})

        assert (await chat("first question")).status_code == 200          # miss, gemini ok, charge 1
        assert (await chat("first question")).status_code == 200          # cache hit, free
        fake_gemini.mode = "503"
        assert (await chat("second question")).status_code == 200         # gemini error → openai ok
        fake_openai.mode = "500"
        assert (await chat("third question")).status_code == 502          # both fail → refund 1
        fake_gemini.mode = fake_openai.mode = "ok"

        after = await scrape(app)
        moved = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}

        def delta(name: str, **labels: str) -> float:
            return moved.get((name, frozenset(labels.items())), 0.0)

        assert delta("muse_cache_requests_total", result="hit") == 1
        assert delta("muse_cache_requests_total", result="miss") == 3
        assert delta("muse_provider_calls_total", kind="chat", provider="gemini", outcome="success") == 1
        assert delta("muse_provider_calls_total", kind="chat", provider="gemini", outcome="error") == 2
        assert delta("muse_provider_calls_total", kind="chat", provider="openai", outcome="success") == 1
        assert delta("muse_provider_calls_total", kind="chat", provider="openai", outcome="error") == 1
        assert delta("muse_provider_latency_seconds_count", kind="chat", provider="gemini") == 3
        assert delta("muse_credits_charged_total") == 3
        assert delta("muse_credits_refunded_total") == 1
        assert delta("muse_http_requests_total", method="POST", route="/api/v1/chat", status="200") == 3
        assert delta("muse_http_requests_total", method="POST", route="/api/v1/chat", status="502") == 1

        # An image job that fails at Replicate, run by a separate worker process.
        fake_replicate.mode = "fail"
        submitted = await client.post("/api/v1/images", headers=headers, json={"prompt": "a red fox"})
        assert submitted.status_code == 202, await submitted.get_json()
        assert value(await scrape(app), "muse_queue_depth") == 1  # read at scrape time
        worker = _spawn_worker(app.extensions["container"].settings, fake_replicate)
        try:
            deadline = time.monotonic() + 60
            samples = await scrape(app)
            # Until the job failed AND left the queue: the job counts its failure before arq removes
            # it from the queue, so a scrape in between reads a depth above 0 (a CI rehearsal did).
            while time.monotonic() < deadline and (value(
                    samples, "muse_jobs_total", kind="generate_image", outcome="failed") < 1
                    or value(samples, "muse_queue_depth") > 0):
                await asyncio.sleep(0.2)
                samples = await scrape(app)
        finally:
            worker.terminate()
            await asyncio.to_thread(worker.wait, 20)
        assert value(samples, "muse_jobs_total", kind="generate_image", outcome="failed") == 1
        assert value(samples, "muse_provider_calls_total", kind="image", provider="replicate",
                     outcome="error") == 1
        assert value(samples, "muse_credits_refunded_total") == 2  # the chat's and the image job's
        assert value(samples, "muse_credits_charged_total") == 4
        assert value(samples, "muse_queue_depth") == 0


async def test_breaker_open_is_read_at_scrape_time(chat_app, fake_gemini, fake_openai):
    fake_gemini.mode = "503"
    headers = await auth_headers(chat_app, "breaker_user")
    for i in range(2):  # chat fixtures open a circuit after 2 failures
        await chat_app.test_client().post("/api/v1/chat", headers=headers,
                                          json={"messages": [{"role": "user", "content": f"q{i}"}]})
    samples = await scrape(chat_app)
    assert value(samples, "muse_breaker_open", provider="gemini") == 1
    assert value(samples, "muse_breaker_open", provider="openai") == 0
    await chat_app.extensions["container"].platform.breaker.reset("gemini")
    assert value(await scrape(chat_app), "muse_breaker_open", provider="gemini") == 0
