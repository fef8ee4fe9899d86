"""SENTRY_DSN (contract §13): 500s and failed jobs reach Sentry (a local ingest fake), tagged with the
request ID; nothing is sent without a DSN."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
import sentry_sdk
import structlog
from pydantic import SecretStr

from app import create_app
from app.wiring import Container, Overrides
from app.worker import build_worker, release_worker
from tests.conftest import make_settings
from tests.fakes.sentry import FakeSentry


class ExplodingPlansController:
    """Stands in for the plans controller and fails the way a bug would."""

    async def list(self) -> dict:
        raise RuntimeError("database password is hunter2")


class ExplodingHousekeeping:
    async def run(self, *, request_id: str | None) -> dict:
        raise RuntimeError("housekeeping bug")


@pytest.fixture
def sentry():
    fake = FakeSentry().start()
    yield fake
    _forget_sentry()
    fake.stop()


def _forget_sentry() -> None:
    """Back to the state of a process started without SENTRY_DSN (later tests report nothing)."""
    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.get_global_scope().set_client(None)


async def _events(fake: FakeSentry, count: int) -> list[dict]:
    sentry_sdk.flush(timeout=5)
    deadline = time.monotonic() + 10
    while len(fake.events) < count and time.monotonic() < deadline:  # noqa: ASYNC110 - a thread fills it
        await asyncio.sleep(0.05)
    return list(fake.events)


def _tags(event: dict) -> dict:
    tags = event.get("tags") or {}
    return dict(tags) if isinstance(tags, dict) else {k: v for k, v in tags}


async def test_a_500_is_reported_with_its_request_id(servers, tmp_path, sentry):
    settings = make_settings(servers, tmp_path, sentry_dsn=SecretStr(sentry.dsn))
    app = create_app(settings)
    async with app.test_app():
        container = app.extensions["container"]
        container.credits = replace(container.credits, plans_controller=ExplodingPlansController())
        response = await app.test_client().get("/api/v1/plans", headers={"X-Request-ID": "req-boom-1"})
        body = await response.get_json()
        assert response.status_code == 500 and body["code"] == "internal_error"
        assert "hunter2" not in await response.get_data(as_text=True)
        events = await _events(sentry, 1)
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert len(events) == 1
    event = events[0]
    assert _tags(event)["request_id"] == "req-boom-1"
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "RuntimeError" and exception["value"] == "database password is hunter2"
    assert event["environment"] == "test"


async def test_a_failed_job_is_reported_with_the_request_id_that_started_it(servers, tmp_path, sentry):
    settings = make_settings(servers, tmp_path, sentry_dsn=SecretStr(sentry.dsn))
    container = Container(settings, Overrides(housekeeping=ExplodingHousekeeping()))
    app = create_app(container=container)
    async with app.test_app():
        async with app.test_request_context("/anything"):
            structlog.contextvars.bind_contextvars(request_id="req-job-boom")
            await container.platform.queue.enqueue("housekeeping")
        structlog.contextvars.clear_contextvars()
        worker = build_worker(container, handle_signals=False, burst=True)
        worker.max_tries = 1
        await worker.async_run()
        await release_worker(worker)
        events = await _events(sentry, 1)
        await container.platform.database.client.drop_database(settings.mongodb_db)
    job_events = [e for e in events if _tags(e).get("job") == "housekeeping"]
    assert job_events, events
    assert _tags(job_events[0])["request_id"] == "req-job-boom"
    assert job_events[0]["exception"]["values"][-1]["value"] == "housekeeping bug"


async def test_without_a_dsn_nothing_is_sent(servers, tmp_path, sentry):
    _forget_sentry()
    settings = make_settings(servers, tmp_path)
    app = create_app(settings)
    async with app.test_app():
        container = app.extensions["container"]
        container.credits = replace(container.credits, plans_controller=ExplodingPlansController())
        response = await app.test_client().get("/api/v1/plans")
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert response.status_code == 500
    assert not sentry_sdk.get_client().is_active()
    sentry_sdk.flush(timeout=1)
    assert sentry.envelopes == 0
