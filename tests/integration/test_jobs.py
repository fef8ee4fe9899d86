"""The arq path end to end: enqueue during a request, run on a real worker, logs carry the request ID."""

from __future__ import annotations

import asyncio

import structlog

from app.worker import build_worker, release_worker
from repositories.job_runs import JobRunDocument


async def test_job_enqueued_in_a_request_logs_that_request_id(app, container, logs):
    async with app.test_request_context("/anything", headers={"X-Request-ID": "req-job-42"}):
        structlog.contextvars.bind_contextvars(request_id="req-job-42")
        job_id = await container.platform.queue.enqueue("housekeeping")
    structlog.contextvars.clear_contextvars()
    assert job_id is not None
    assert await container.platform.queue.depth() == 1

    worker = build_worker(container, handle_signals=False, burst=True)
    await worker.async_run()
    await release_worker(worker)

    # Other periodic jobs may also fire in burst mode; the enqueued one must be among the completed.
    assert worker.jobs_complete >= 1 and worker.jobs_failed == 0
    job_lines = [line for line in logs.lines if line.get("job") == "housekeeping"]
    events = {line["event"] for line in job_lines}
    assert {"job_started", "housekeeping_done", "job_finished"} <= events
    assert all(line["request_id"] == "req-job-42" for line in job_lines)
    runs = await JobRunDocument.find(JobRunDocument.name == "housekeeping").to_list()
    assert len(runs) == 1
    assert runs[0].ok is True and runs[0].request_id == "req-job-42"
    assert runs[0].result["cleaned"] == {"job_runs": 0}


async def test_in_process_worker_runs_jobs_when_enabled(settings):
    from app import create_app

    application = create_app(settings.model_copy(update={"worker_in_process": True}))
    async with application.test_app():
        container = application.extensions["container"]
        job_id = await container.platform.queue.enqueue("housekeeping")
        from arq.jobs import Job

        job = Job(job_id, container.platform.redis, _queue_name=settings.queue_name)
        result = await job.result(timeout=10)
        await container.platform.database.client.drop_database(settings.mongodb_db)
    assert result["failed"] == []
    assert "run_id" in result


async def test_releasing_a_worker_leaves_the_shared_redis_client_and_its_commands_alone(container):
    # arq's Worker.close disconnected every connection of the process's client: a command another
    # task had in flight failed, and the Redis guard then failed every command for its cool-down.
    worker = build_worker(container, handle_signals=False, burst=True)
    await worker.async_run()
    redis = container.platform.redis
    in_flight = asyncio.create_task(redis.blpop(["never-pushed"], timeout=0.5))
    await asyncio.sleep(0.1)
    await release_worker(worker)
    assert await in_flight is None  # it waited its 0.5 s and ended normally
    assert await redis.ping() and redis.guard.open_until == 0.0
