"""Chaos (issue 27 item 2): two real worker processes; the one running a job is killed with SIGKILL in
the middle of its provider call. The other worker notices the silent heartbeat and fails and refunds
the job exactly once within 45 s (contract §16), and goes on running new jobs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.identity import auth_headers
from tests.fixtures.images import image_settings, started_app
from tests.fixtures.processes import muse_env

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT_TIMEOUT_S = 5  # JOB_HEARTBEAT_TIMEOUT_S in the workers (default 30): keeps the test short
REFUND_WITHIN_S = 45


def _spawn_worker(settings, fake_replicate) -> subprocess.Popen:
    env = muse_env(settings, IMAGE_PROVIDERS="replicate", REPLICATE_API_TOKEN=fake_replicate.token,
                   REPLICATE_BASE_URL=fake_replicate.url, LOG_LEVEL="WARNING",
                   JOB_HEARTBEAT_TIMEOUT_S=str(HEARTBEAT_TIMEOUT_S))
    return subprocess.Popen([sys.executable, "-m", "app", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _until(predicate, timeout_s: float, step_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(step_s)
    raise AssertionError(f"not within {timeout_s} s")


async def test_a_worker_killed_mid_job_is_refunded_once_by_the_other_worker_within_45_s(
        settings, fake_replicate):
    fake_replicate.mode = "hang"  # the job stays in its provider call until its worker dies
    async with started_app(image_settings(settings, fake_replicate)) as app:  # no worker of its own
        container, client = app.extensions["container"], app.test_client()
        repo = container.media.image_repository
        headers = await auth_headers(app, "chaos_user")
        user = await container.identity.users.ensure_clerk_user("chaos_user")
        workers = [_spawn_worker(container.settings, fake_replicate) for _ in range(2)]
        try:
            image_id = (await (await client.post("/api/v1/images", headers=headers,
                                                 json={"prompt": "doomed"})).get_json())["id"]

            async def sent() -> bool:
                return fake_replicate.creates == 1

            await _until(sent, 60)  # a worker claimed it and called Replicate
            running = await repo.get(image_id)
            assert running.status == "in_progress" and running.dispatched_at is not None
            pid = int(running.claimed_by.rsplit(":", 1)[1])
            victim = next(w for w in workers if w.pid == pid)
            survivor = next(w for w in workers if w is not victim)
            os.kill(pid, signal.SIGKILL)
            killed_at = time.monotonic()
            await asyncio.to_thread(victim.wait, 10)

            async def refunded():
                record = await repo.get(image_id)
                return record if record.status == "failed" and record.refunded else None

            failed = await _until(refunded, REFUND_WITHIN_S)
            seconds = time.monotonic() - killed_at
            print(f"\nchaos: refunded {seconds:.1f} s after SIGKILL "
                  f"(JOB_HEARTBEAT_TIMEOUT_S={HEARTBEAT_TIMEOUT_S})")
            assert seconds < REFUND_WITHIN_S
            assert failed.error["code"] == "provider_timeout"
            assert survivor.poll() is None  # the second worker did it and is still running

            # The survivor goes on: a new job completes on it, and the dead job stays refunded once.
            fake_replicate.mode = "ok"
            next_id = (await (await client.post("/api/v1/images", headers=headers,
                                                json={"prompt": "fine"})).get_json())["id"]

            async def completed() -> bool:
                return (await repo.get(next_id)).status == "completed"

            await _until(completed, 60)
            await asyncio.sleep(HEARTBEAT_TIMEOUT_S)  # another reap round or two by the survivor
            entries, _ = await container.credits.service.ledger(user.id, limit=50)
            kinds = sorted(e.kind for e in entries)
            assert kinds == ["charge", "charge", "refund"], kinds
            assert [e.ref for e in entries if e.kind == "refund"] == [failed.receipt["id"]]
            assert (await container.credits.service.audit(user.id))["ok"]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    await asyncio.to_thread(worker.wait, 20)
                except subprocess.TimeoutExpired:
                    worker.kill()
