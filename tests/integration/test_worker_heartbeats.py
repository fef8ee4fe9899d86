"""Worker liveness (contract §16, issue 27 item 2): a running job beats; a job whose worker went silent
for JOB_HEARTBEAT_TIMEOUT_S is failed and refunded exactly once by any live worker, or re-queued when
nothing was sent to a provider yet. Here the dead worker is simulated by claiming records by hand;
tests/integration/test_worker_heartbeat_chaos.py kills a real worker process."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.config import Settings
from app.worker import reap_interval_s
from services.media.heartbeat import ClaimLost, Heartbeat
from services.platform.clock import clock
from tests.conftest import app_instances
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import image_settings, run_jobs

TIMEOUT_S = 2.0


async def _submit(app, clerk_id: str = "beat_user") -> tuple[str, str]:
    container, client = app.extensions["container"], app.test_client()
    headers = await auth_headers(app, clerk_id)
    user = await container.identity.users.ensure_clerk_user(clerk_id)
    response = await client.post("/api/v1/images", headers=headers, json={"prompt": "a lighthouse"})
    assert response.status_code == 202
    return (await response.get_json())["id"], user.id


async def _kinds(container, user_id: str) -> list[str]:
    entries, _ = await container.credits.service.ledger(user_id, limit=50)
    return sorted(e.kind for e in entries)


@pytest.fixture
def beat_settings(settings, fake_replicate):
    return image_settings(settings, fake_replicate, job_heartbeat_timeout_s=TIMEOUT_S)


async def test_a_silent_job_that_called_its_provider_is_failed_and_refunded_once_by_racing_workers(
        beat_settings):
    async with app_instances(beat_settings, count=2) as apps:
        container = apps[0].extensions["container"]
        image_id, user_id = await _submit(apps[0])
        repo = container.media.image_repository
        claimed = await repo.claim(image_id, worker="gone-host:4242")
        assert claimed.claimed_by == "gone-host:4242" and claimed.heartbeat_at is not None
        assert await repo.beat(image_id, started_at=claimed.started_at, dispatched=True)

        assert [await a.extensions["container"].media.image_jobs.reap() for a in apps] == [
            {"failed": 0, "requeued": 0}] * 2  # still within its heartbeat timeout
        clock.offset = timedelta(seconds=TIMEOUT_S + 1)
        rounds = await asyncio.gather(*(a.extensions["container"].media.image_jobs.reap()
                                        for a in apps for _ in range(3)))
        assert sum(r["failed"] for r in rounds) == 1 and sum(r["requeued"] for r in rounds) == 0
        record = await repo.get(image_id)
        assert record.status == "failed" and record.refunded and record.error["code"] == "provider_timeout"
        assert await _kinds(container, user_id) == ["charge", "refund"]
        assert (await container.credits.service.audit(user_id))["ok"]


async def test_a_silent_job_that_sent_nothing_is_requeued_and_runs_once_on_a_live_worker(
        beat_settings, fake_replicate):
    async with app_instances(beat_settings, count=1) as (app,):
        container = app.extensions["container"]
        image_id, user_id = await _submit(app)
        redis = container.platform.redis
        # A worker took the job (arq's in-progress mark, kept for the job timeout) and died
        # before its first provider call.
        assert await container.media.image_repository.claim(image_id, worker="gone-host:1")
        await redis.set(f"arq:in-progress:{image_id}", b"1", px=600_000)
        clock.offset = timedelta(seconds=TIMEOUT_S + 1)
        assert await container.media.image_jobs.reap() == {"failed": 0, "requeued": 1}
        assert await redis.exists(f"arq:in-progress:{image_id}") == 0
        record = await container.media.image_repository.get(image_id)
        assert record.status == "queued" and record.claimed_by is None

        clock.offset = timedelta(0)
        completed, failed = await run_jobs(container)
        assert completed >= 1 and failed == 0
        done = await container.media.image_repository.get(image_id)
        assert done.status == "completed" and fake_replicate.creates == 1
        assert done.dispatched_at is not None and done.claimed_by != "gone-host:1"
        assert await _kinds(container, user_id) == ["charge"]


async def test_a_beating_job_is_left_alone_and_a_worker_that_lost_its_claim_sends_nothing(beat_settings):
    async with app_instances(beat_settings, count=1) as (app,):
        container = app.extensions["container"]
        repo = container.media.image_repository
        image_id, _ = await _submit(app)
        record = await repo.claim(image_id, worker="slow-host:7")
        async with Heartbeat(repo, record, interval_s=0.1):
            await asyncio.sleep(0.35)
            beat = (await repo.get(image_id)).heartbeat_at
            assert beat > record.heartbeat_at  # renewed in the background
        clock.offset = timedelta(seconds=TIMEOUT_S - 1)  # a second short of silence since that beat
        assert await container.media.image_jobs.reap() == {"failed": 0, "requeued": 0}

        # The worker only stalled: reaped meanwhile (nothing was sent), it must not call a provider.
        clock.offset = timedelta(seconds=TIMEOUT_S + 5)
        assert (await container.media.image_jobs.reap())["requeued"] == 1
        with pytest.raises(ClaimLost):
            await Heartbeat(repo, record, interval_s=10).dispatching()


def test_the_heartbeat_timeout_is_a_setting_and_sets_the_reap_rhythm():
    assert Settings(_env_file=None).job_heartbeat_timeout_s == 30.0  # type: ignore[call-arg]
    assert reap_interval_s(30.0) == 5.0 and reap_interval_s(3.0) == 1.0
