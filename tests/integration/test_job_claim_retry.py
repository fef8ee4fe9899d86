"""A media job whose record cannot be claimed (MongoDB hung) runs again later instead of being lost.

`make soak` on a loaded host left image jobs `queued` for the whole drain: the job's first step, the
claim (queued → in_progress), timed out against MongoDB, the exception ended the arq job for good,
and the record stayed queued (its credits held) until the sweeper's hour. Here MongoDB is frozen
(SIGSTOP) while a real arq worker takes the job, then thawed: the job runs on its next try."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from app import create_app
from tests.conftest import make_settings
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import run_jobs


async def test_a_job_whose_claim_times_out_is_retried_and_completes_once_mongodb_answers(
        own_servers, tmp_path):
    urls = {"mongodb_uri": own_servers["mongo"].url, "redis_url": own_servers["redis"].url}
    settings = make_settings(urls, tmp_path, image_providers=["local"], mongodb_timeout_s=1.5,
                             redis_timeout_s=1.0, job_heartbeat_timeout_s=2.0)
    app = create_app(settings)
    async with app.test_app():
        container = app.extensions["container"]
        headers = await auth_headers(app, "claim_user")
        client = app.test_client()
        response = await client.post("/api/v1/images", headers=headers, json={"prompt": "a lighthouse"})
        assert response.status_code == 202, await response.get_data()
        image_id = (await response.get_json())["id"]
        redis = container.platform.redis

        mongo = own_servers["mongo"].process.pid
        os.kill(mongo, signal.SIGSTOP)
        try:
            worker = asyncio.create_task(run_jobs(container))
            first_try_over = False
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not worker.done():
                tries = int(await redis.get(f"arq:retry:{image_id}") or 0)
                running = await redis.exists(f"arq:in-progress:{image_id}")
                if tries >= 1 and not running:
                    first_try_over = True  # the claim timed out and the try ended
                    break
                await asyncio.sleep(0.1)
        finally:
            os.kill(mongo, signal.SIGCONT)
        assert first_try_over or worker.done(), "the worker never tried the job"
        # the claim may have taken effect after the thaw (its answer lost): a live worker's reaper
        # hands it back, before the job's next try (JOB_HEARTBEAT_TIMEOUT_S + a reaper round later)
        deadline = time.monotonic() + 120
        while not worker.done() and time.monotonic() < deadline:
            await container.media.image_jobs.reap()
            await asyncio.sleep(0.5)
        completed, failed = await asyncio.wait_for(worker, timeout=10)
        record = await container.media.image_repository.get(image_id)
        assert record.status == "completed", (record.status, completed, failed)  # before: queued for an hour
        assert not record.refunded
        user = await container.identity.users.get_by_clerk_id("claim_user")
        entries, _ = await container.credits.service.ledger(user.id, limit=20)
        assert "refund" not in {e.kind for e in entries}, entries  # charged, never refunded
        audit = await container.credits.service.audit(user.id)
        deadline = time.monotonic() + 90  # a ledger write deferred during the freeze is written later
        while not audit["ok"] and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            audit = await container.credits.service.audit(user.id)
        assert audit["ok"], audit
