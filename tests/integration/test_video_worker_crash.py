"""A real worker process killed in the middle of a video job: failed, refunded exactly once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from services.platform.clock import clock
from tests.fixtures.images import run_jobs
from tests.fixtures.processes import muse_env
from tests.fixtures.videos import started_video_app, video_settings, video_user

ROOT = Path(__file__).resolve().parents[2]


def _spawn_worker(settings, fake_replicate) -> subprocess.Popen:
    env = muse_env(settings, VIDEO_PROVIDERS="replicate", REPLICATE_API_TOKEN=fake_replicate.token,
                   REPLICATE_BASE_URL=fake_replicate.url, LOG_LEVEL="WARNING")
    return subprocess.Popen([sys.executable, "-m", "app", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_a_worker_killed_mid_video_job_ends_failed_and_refunded_once(settings, fake_replicate):
    fake_replicate.mode = "running"  # the prediction never finishes: the worker is polling it when killed
    async with started_video_app(video_settings(settings, fake_replicate)) as app:
        container, client = app.extensions["container"], app.test_client()
        headers, user_id = await video_user(app, "vid_crash")
        video_id = (await (await client.post("/api/v1/videos", headers=headers,
                                             json={"prompt": "doomed", "duration_s": 3})).get_json())["id"]
        worker = _spawn_worker(container.settings, fake_replicate)
        try:
            for _ in range(600):  # the worker claims the job and starts the prediction
                if fake_replicate.polls:
                    break
                await asyncio.sleep(0.05)
            assert fake_replicate.creates == 1
            assert (await container.media.video_repository.get(video_id)).status == "in_progress"
        finally:
            worker.send_signal(signal.SIGKILL)
            await asyncio.to_thread(worker.wait, 10)

        waiting = asyncio.create_task(container.media.videos.wait(video_id, timeout_s=20))
        await asyncio.sleep(0.1)
        # within the timeout: left alone
        assert (await container.media.video_jobs.sweep())["in_progress"] == 0
        clock.offset = timedelta(seconds=container.settings.video_timeout_s + 60)
        assert (await container.media.video_jobs.sweep())["in_progress"] == 1
        assert (await container.media.video_jobs.sweep())["in_progress"] == 0
        settled = await asyncio.wait_for(waiting, 5)  # a waiter hears the failure (and its refund)
        assert settled.status == "failed" and settled.refunded
        failed = await (await client.get(f"/api/v1/videos/{video_id}", headers=headers)).get_json()
        assert failed["status"] == "failed" and failed["error"]["code"] == "provider_timeout"

        # the dead worker's queue entry comes back: a live worker finds the record failed and
        # neither calls the provider again nor refunds a second time
        fake_replicate.mode = "ok"
        assert await container.platform.redis.delete(f"arq:in-progress:{video_id}") == 1
        completed, _ = await run_jobs(container)
        assert completed >= 1 and fake_replicate.creates == 1
        assert (await container.media.video_repository.get(video_id)).status == "failed"
        entries, _ = await container.credits.service.ledger(user_id, limit=50)
        assert len([e for e in entries if e.kind == "refund"]) == 1
        assert [e.delta for e in entries if e.kind == "refund"] == [30]
        assert len([e for e in entries if e.kind == "charge"]) == 1
        assert (await container.credits.service.audit(user_id))["ok"]
