"""Image job lifecycle: waiting, several workers, the sweeper, idempotency and expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.worker import build_worker
from repositories.images import ImageDocument
from services.media.image_models import Caller, GenerateInput
from services.media.images import IMAGES, ImageService
from services.media.library import MediaLibrary
from services.platform.clock import clock
from services.platform.errors import ServiceUnavailable
from services.platform.ports.queue import JobName
from tests.fixtures.images import image_settings, run_jobs, started_app
from tests.fixtures.images import image_user as _user


async def _refunds(container, user_id: str) -> list:
    entries, _ = await container.credits.service.ledger(user_id, limit=100)
    return [e for e in entries if e.kind == "refund"]


async def test_wait_true_answers_201_with_the_finished_image(settings, fake_replicate):
    async with started_app(image_settings(settings, fake_replicate, worker_in_process=True)) as app:
        headers, _ = await _user(app)
        response = await app.test_client().post(
            "/api/v1/images", headers=headers, json={"prompt": "a quiet harbour", "wait": True}
        )
        body = await response.get_json()
        assert response.status_code == 201, body
        assert body["status"] == "completed" and body["provider"] == "replicate" and len(body["outputs"]) == 1
        assert response.headers["Location"] == f"/api/v1/images/{body['id']}"


async def test_wait_true_on_total_failure_answers_the_problem_and_refunds(
    settings, fake_replicate, fake_openai_images
):
    fake_replicate.mode, fake_openai_images.mode = "fail", "fail"
    async with started_app(
        image_settings(settings, fake_replicate, fake_openai_images, worker_in_process=True)
    ) as app:
        container = app.extensions["container"]
        headers, user_id = await _user(app)
        response = await app.test_client().post(
            "/api/v1/images", headers=headers, json={"prompt": "x", "wait": True}
        )
        body = await response.get_json()
        assert response.status_code == 502 and response.content_type == "application/problem+json"
        assert body["code"] == "provider_unavailable" and body["image_id"].startswith("img_")
        assert body["request_id"] == response.headers["X-Request-ID"]
        assert len(await _refunds(container, user_id)) == 1


async def test_provider_timeout_fails_over_within_the_budget(settings, fake_replicate, fake_openai_images):
    fake_replicate.mode = "hang"
    async with started_app(
        image_settings(settings, fake_replicate, fake_openai_images, image_timeout_s=2.0)
    ) as app:
        headers, _ = await _user(app)
        client = app.test_client()
        image_id = (
            await (await client.post("/api/v1/images", headers=headers, json={"prompt": "slow"})).get_json()
        )["id"]
        await run_jobs(app.extensions["container"])
        done = await (await client.get(f"/api/v1/images/{image_id}", headers=headers)).get_json()
        assert done["status"] == "completed" and done["provider"] == "openai"


async def test_two_workers_share_jobs_and_each_job_runs_once(images_app, fake_replicate):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, _ = await _user(images_app)
    ids = [
        (await (await client.post("/api/v1/images", headers=headers, json={"prompt": f"n{i}"})).get_json())[
            "id"
        ]
        for i in range(4)
    ]
    workers = [build_worker(container, handle_signals=False, burst=True) for _ in range(2)]
    await asyncio.gather(*(w.async_run() for w in workers))
    for w in workers:
        await w.close()
    assert fake_replicate.creates == 4
    for image_id in ids:
        assert (await (await client.get(f"/api/v1/images/{image_id}", headers=headers)).get_json())[
            "status"
        ] == "completed"
    # a duplicate delivery of a finished job does nothing
    assert await container.media.image_jobs.run(ids[0]) is None and fake_replicate.creates == 4


async def test_sweeper_fails_a_job_whose_worker_died_and_refunds_once(images_app, fake_replicate):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    image_id = (
        await (await client.post("/api/v1/images", headers=headers, json={"prompt": "lost"})).get_json()
    )["id"]
    # A worker claimed it and died: in progress, no live job, nothing finishes it.
    assert (await container.media.image_repository.claim(image_id)).status == "in_progress"
    await container.platform.redis.delete(container.settings.queue_name)
    assert (await container.media.image_jobs.sweep())["in_progress"] == 0  # not stale yet
    clock.offset = timedelta(seconds=container.settings.image_timeout_s + 31)
    first = await container.media.image_jobs.sweep()
    second = await container.media.image_jobs.sweep()
    assert first["in_progress"] == 1 and second["in_progress"] == 0
    failed = await (await client.get(f"/api/v1/images/{image_id}", headers=headers)).get_json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "provider_timeout"
    refunds = await _refunds(container, user_id)
    assert len(refunds) == 1
    # a late duplicate delivery of the job cannot resurrect it or refund again
    assert await container.media.image_jobs.run(image_id) is None
    await container.media.image_jobs.fail(await container.media.image_repository.get(image_id), _timeout())
    assert len(await _refunds(container, user_id)) == 1 and fake_replicate.creates == 0


def _timeout():
    from services.platform.errors import UpstreamTimeout

    return UpstreamTimeout()


async def test_same_idempotency_key_twice_makes_one_job_and_one_charge(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    headers = {**headers, "Idempotency-Key": "gen-123"}
    first = await client.post("/api/v1/images", headers=headers, json={"prompt": "once", "num_outputs": 2})
    second = await client.post("/api/v1/images", headers=headers, json={"prompt": "once", "num_outputs": 2})
    assert first.status_code == second.status_code == 202
    assert (await first.get_json()) == (await second.get_json())
    assert await container.platform.queue.depth() == 1
    assert await ImageDocument.find(ImageDocument.user_id == user_id).count() == 1
    entries, _ = await container.credits.service.ledger(user_id, limit=100)
    image_id = (await first.get_json())["id"]
    charges = [e for e in entries if e.kind != "refund" and e.ref and e.ref.startswith("img_")]
    assert [e.ref for e in charges] == [image_id] and abs(sum(charges[0].sources.values())) == 2
    mismatch = await client.post("/api/v1/images", headers=headers, json={"prompt": "different"})
    assert mismatch.status_code == 422 and (await mismatch.get_json())["code"] == "idempotency_mismatch"


async def test_expired_unsaved_media_is_deleted_and_saved_images_are_kept(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, _ = await _user(images_app)
    temp_id = (
        await (await client.post("/api/v1/images", headers=headers, json={"prompt": "temp"})).get_json()
    )["id"]
    kept_id = (
        await (await client.post("/api/v1/images", headers=headers, json={"prompt": "kept"})).get_json()
    )["id"]
    await run_jobs(container)
    saved = await (await client.post(f"/api/v1/images/{kept_id}/save", headers=headers)).get_json()
    assert saved["saved"] is True and saved["expires_at"] is None
    temp = await (await client.get(f"/api/v1/images/{temp_id}", headers=headers)).get_json()
    media = Path(container.settings.media_dir)
    temp_file = media / temp["outputs"][0]["url"].split("/media/", 1)[1]
    kept_file = media / saved["outputs"][0]["url"].split("/media/", 1)[1]
    assert temp_file.is_file() and kept_file.is_file()

    assert await container.media.images.expire_due() == 0  # not yet
    clock.offset = timedelta(hours=container.settings.temp_media_ttl_h, minutes=1)
    await container.platform.queue.enqueue(JobName.SWEEP_IMAGES)
    await run_jobs(container)

    expired = await (await client.get(f"/api/v1/images/{temp_id}", headers=headers)).get_json()
    assert expired["status"] == "expired" and expired["outputs"] == []
    assert not temp_file.exists()
    assert (await client.get("/media/" + temp["outputs"][0]["url"].split("/media/", 1)[1])).status_code == 404
    kept = await (await client.get(f"/api/v1/images/{kept_id}", headers=headers)).get_json()
    assert kept["status"] == "completed" and kept_file.is_file()
    listed = await (await client.get("/api/v1/images", headers=headers)).get_json()
    assert [i["id"] for i in listed["items"]] == [kept_id]
    assert (await client.post(f"/api/v1/images/{temp_id}/save", headers=headers)).status_code == 410


class RefusingQueue:
    """A job queue whose broker is down: every enqueue raises."""

    def __init__(self) -> None:
        self.tried: list[str] = []

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None,
                      defer_s: float | None = None, **kwargs: Any) -> str | None:
        self.tried.append(function)
        raise ConnectionError("the broker is down")

    async def depth(self) -> int:
        return 0


async def test_an_enqueue_that_fails_is_failed_and_refunded_once_on_the_web_side(settings, fake_replicate):
    async with started_app(image_settings(settings, fake_replicate)) as app:
        container = app.extensions["container"]
        _, user_id = await _user(app)
        media, queue = container.media, RefusingQueue()
        # the library alone (no job runner exists here): its own settlement fails and refunds the job
        library = MediaLibrary(IMAGES, records=media.image_repository, storage=media.storage, queue=queue,
                               credits=container.credits.service, provider_names=["replicate"],
                               events=container.platform.job_events)
        images = ImageService(library, storage=media.storage, catalog=container.platform.catalog)
        before = (await container.credits.service.summary(user_id, plan="free"))["spendable"]
        with pytest.raises(ServiceUnavailable):
            await images.submit(Caller(user_id=user_id, plan="free", request_id="rq_down"),
                                GenerateInput(prompt="a harbour"))
        assert queue.tried == [JobName.GENERATE_IMAGE]
        rows, _ = await library.list(user_id)
        states = [(r.status, r.refunded, r.error["code"]) for r in rows]
        assert states == [("failed", True, "service_unavailable")]
        assert len(await _refunds(container, user_id)) == 1
        assert (await container.credits.service.summary(user_id, plan="free"))["spendable"] == before
