"""A real worker process killed mid-job: the sweeper fails the job and refunds it exactly once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from services.platform.clock import clock
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import image_settings, run_jobs, started_app
from tests.fixtures.processes import muse_env

ROOT = Path(__file__).resolve().parents[2]


def _spawn_worker(settings, fake_replicate) -> subprocess.Popen:
    env = muse_env(settings, IMAGE_PROVIDERS="replicate", REPLICATE_API_TOKEN=fake_replicate.token,
                   REPLICATE_BASE_URL=fake_replicate.url, LOG_LEVEL="WARNING")
    return subprocess.Popen(
        [sys.executable, "-m", "app", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_killed_worker_process_is_swept_failed_and_refunded_once(settings, fake_replicate):
    fake_replicate.mode = "hang"  # the job stays in the provider call until the worker dies
    async with started_app(image_settings(settings, fake_replicate)) as app:
        container, client = app.extensions["container"], app.test_client()
        headers = await auth_headers(app, "crash_user")
        user = await container.identity.users.ensure_clerk_user("crash_user")
        image_id = (
            await (await client.post("/api/v1/images", headers=headers, json={"prompt": "doomed"})).get_json()
        )["id"]
        worker = _spawn_worker(container.settings, fake_replicate)
        try:
            for _ in range(600):  # the worker claims the job and calls Replicate
                if fake_replicate.creates:
                    break
                await asyncio.sleep(0.05)
            assert fake_replicate.creates == 1
            assert (await container.media.image_repository.get(image_id)).status == "in_progress"
        finally:
            worker.send_signal(signal.SIGKILL)
            await asyncio.to_thread(worker.wait, 10)

        # within the timeout: left alone
        assert (await container.media.image_jobs.sweep())["in_progress"] == 0
        clock.offset = timedelta(seconds=container.settings.image_timeout_s + 60)
        assert (await container.media.image_jobs.sweep())["in_progress"] == 1
        assert (await container.media.image_jobs.sweep())["in_progress"] == 0
        failed = await (await client.get(f"/api/v1/images/{image_id}", headers=headers)).get_json()
        assert failed["status"] == "failed" and failed["error"]["code"] == "provider_timeout"

        # The dead worker's queue entry comes back once its in-progress mark expires: the job
        # runs again on a live worker, finds its record failed, and neither calls the provider
        # again nor refunds a second time.
        fake_replicate.mode = "ok"
        assert await container.platform.redis.delete(f"arq:in-progress:{image_id}") == 1
        completed, _ = await run_jobs(container)  # (a minute cron may run in the same burst)
        assert completed >= 1 and fake_replicate.creates == 1
        again = await (await client.get(f"/api/v1/images/{image_id}", headers=headers)).get_json()
        assert again["status"] == "failed"
        entries, _ = await container.credits.service.ledger(user.id, limit=50)
        assert len([e for e in entries if e.kind == "refund"]) == 1
        assert len([e for e in entries if e.kind == "charge"]) == 1
        assert (await container.credits.service.audit(user.id))["ok"]
