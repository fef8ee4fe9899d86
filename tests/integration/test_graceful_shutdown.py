"""SIGTERM to real processes (contract §16): the web server drains; a worker finishes or re-queues jobs."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from arq.worker import Worker

from app.embedded import free_port
from app.wiring.jobs import arq_context
from app.worker import WorkerRunner, build_worker
from tests.fixtures.identity import auth_headers, make_token
from tests.fixtures.images import image_settings, started_app
from tests.fixtures.processes import muse_env

ROOT = Path(__file__).resolve().parents[2]


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "wb")  # noqa: SIM115 - owned by the child
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT)


async def wait_http(url: str, proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the server exited while starting"
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


async def test_web_drains_on_sigterm_readiness_503_and_the_stream_finishes(settings, fake_gemini, tmp_path):
    words = [f"w{i} " for i in range(10)]
    fake_gemini.reply = "".join(words)
    fake_gemini.chunk_delay_s = 0.2  # a ~2 s stream
    port = free_port()
    env = muse_env(settings, PORT=str(port), CHAT_PROVIDERS="gemini", GEMINI_API_KEY=fake_gemini.api_key,
                   GEMINI_BASE_URL=fake_gemini.url, AI_TIMEOUT_S="10")
    proc = spawn(["serve", "--port", str(port)], env, tmp_path / "web.log")
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {make_token('drain_user')}"}
    try:
        await wait_http(f"{base}/health/live", proc)
        async with httpx.AsyncClient(timeout=20) as http:
            body = b""
            async with http.stream("POST", f"{base}/api/v1/chat", headers=headers, json={
                    "messages": [{"role": "user", "content": "tell me"}], "stream": True}) as response:
                assert response.status_code == 200
                chunks = response.aiter_raw()
                while b"event: delta" not in body:
                    body += await anext(chunks)
                proc.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                await asyncio.sleep(0.2)
                ready = await http.get(f"{base}/health")
                answered_in = time.monotonic() - signalled
                async for chunk in chunks:
                    body += chunk
            exit_code = await asyncio.to_thread(proc.wait, 20)
            stopped_in = time.monotonic() - signalled
    finally:
        stop(proc)

    assert ready.status_code == 503 and ready.json()["status"] == "draining", ready.text
    assert answered_in < 2.0
    text = body.decode()
    assert "event: error" not in text
    assert all(word.strip() in text for word in words)  # the stream in flight finished
    assert exit_code == 0
    assert stopped_in < 15, stopped_in


async def test_worker_sigterm_finishes_a_running_job(settings, fake_replicate, tmp_path):
    fake_replicate.mode = "hang"  # the provider answers only after the signal
    async with started_app(image_settings(settings, fake_replicate)) as app:
        container, client = app.extensions["container"], app.test_client()
        headers = await auth_headers(app, "drain_worker")
        image_id = (await (await client.post("/api/v1/images", headers=headers,
                                             json={"prompt": "finish me"})).get_json())["id"]
        worker = spawn(["worker"], _worker_env(container.settings, fake_replicate), tmp_path / "w.log")
        try:
            await _until(lambda: fake_replicate.creates >= 1)
            worker.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            assert worker.poll() is None  # still finishing its job
            fake_replicate.release.set()
            exit_code = await asyncio.to_thread(worker.wait, 20)
        finally:
            stop(worker)
        record = await container.media.image_repository.get(image_id)
    assert exit_code == 0
    assert record.status == "completed"


async def test_worker_sigterm_requeues_a_job_it_cannot_finish_at_once(settings, fake_replicate, tmp_path):
    fake_replicate.mode = "running"  # the prediction never finishes (Replicate bills while it runs)
    async with started_app(image_settings(settings, fake_replicate)) as app:
        container, client = app.extensions["container"], app.test_client()
        headers = await auth_headers(app, "drain_requeue")
        user = await container.identity.users.ensure_clerk_user("drain_requeue")
        image_id = (await (await client.post("/api/v1/images", headers=headers,
                                             json={"prompt": "too slow"})).get_json())["id"]
        env = _worker_env(container.settings, fake_replicate, DRAIN_TIMEOUT_S="0.5")
        first = spawn(["worker"], env, tmp_path / "w1.log")
        try:
            await _until(lambda: fake_replicate.creates >= 1)
            assert (await container.media.image_repository.get(image_id)).status == "in_progress"
            first.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            exit_code = await asyncio.to_thread(first.wait, 20)
            stopped_in = time.monotonic() - signalled
        finally:
            stop(first)
        record = await container.media.image_repository.get(image_id)
        assert exit_code == 0 and stopped_in < 10, (exit_code, stopped_in)
        assert record.status == "queued"  # handed back at once, not left for the sweeper
        assert fake_replicate.cancels == 1  # the abandoned prediction was cancelled at Replicate

        fake_replicate.mode = "ok"  # the next worker takes the job without waiting
        second = spawn(["worker"], _worker_env(container.settings, fake_replicate), tmp_path / "w2.log")
        try:
            await _until(lambda: fake_replicate.creates >= 2)
            for _ in range(200):
                record = await container.media.image_repository.get(image_id)
                if record.status in ("completed", "failed"):
                    break
                await asyncio.sleep(0.05)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.to_thread(second.wait, 20)
            stop(second)
        entries, _ = await container.credits.service.ledger(user.id, limit=50)
    assert record.status == "completed"
    assert [e.kind for e in entries].count("charge") == 1
    assert [e.kind for e in entries].count("refund") == 0


def _worker_env(settings, fake_replicate, **extra: str) -> dict[str, str]:
    return muse_env(settings, IMAGE_PROVIDERS="replicate", REPLICATE_API_TOKEN=fake_replicate.token,
                    REPLICATE_BASE_URL=fake_replicate.url, **extra)


async def _until(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition never met"
        await asyncio.sleep(0.05)


class _WorkerSwallowingOneCancel(Worker):
    """An arq worker whose poll loop goes on after one cancellation, as the loop of a stopped
    worker here did (inside a library), which kept SIGTERM from ending the process."""

    swallowed = 0

    async def main(self) -> None:
        try:
            await super().main()
        except asyncio.CancelledError:
            type(self).swallowed += 1
            await super().main()  # polling again: only a second cancellation ends it


async def test_worker_stop_ends_a_poll_loop_that_swallowed_a_cancellation(settings):
    async with started_app(settings) as app:
        container = app.extensions["container"]
        plain = build_worker(container, handle_signals=False)

        def build(c):
            return _WorkerSwallowingOneCancel(
                functions=[f for n, f in plain.functions.items() if not n.startswith("cron:")],
                redis_pool=c.platform.redis, queue_name=c.settings.queue_name, handle_signals=False,
                poll_delay=0.05, ctx=arq_context(c))

        runner = WorkerRunner(container, build)
        runner.start()
        await asyncio.sleep(0.3)  # polling
        await asyncio.wait_for(runner.stop(), 5)
        assert _WorkerSwallowingOneCancel.swallowed == 1


async def test_a_slow_stop_step_is_named_in_the_log(settings, caplog, monkeypatch):
    async with started_app(settings) as app:
        job_events = app.extensions["container"].platform.job_events
        close = job_events.aclose

        async def slow_close() -> None:  # as events that take their time to publish
            await asyncio.sleep(1.1)
            await close()

        monkeypatch.setattr(job_events, "aclose", slow_close)
        caplog.set_level(logging.WARNING, logger="muse.wiring")
    slow = [r.msg for r in caplog.records if "stop_step_slow" in str(r.msg)]
    assert [(e["step"], e["seconds"] >= 1.1) for e in slow if e["step"] == "platform"] == [("platform", True)]
