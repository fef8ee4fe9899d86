"""Pushed job progress (contract §15): SSE across web processes, `wait` by listening, resync."""

from __future__ import annotations

import asyncio
import json
import time

import av  # noqa: F401  # the local video provider's libraries, loaded before any timed read: their
import PIL.Image  # noqa: F401  # first import took 4.8 s on a cold page cache here (a CI run timed out)
from redis.asyncio import Redis

from repositories.job_events import RedisJobEvents
from repositories.redis_client import connect_redis
from services.media.ports.job_events import RESYNC
from tests.conftest import app_instances
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import run_jobs
from tests.fixtures.videos import started_video_app, video_settings, video_user


def _parse(raw: bytes) -> list[tuple[str, dict]]:
    events = []
    for block in raw.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


async def _read_to_end(connection, *, timeout_s: float = 10.0) -> bytes:
    """Body chunks until the response ends (the empty last chunk)."""
    data = b""
    while True:
        chunk = await asyncio.wait_for(connection.receive(), timeout_s)
        if chunk == b"":
            return data
        data += chunk


async def test_an_sse_client_on_another_web_process_gets_every_status_in_order(settings):
    async with app_instances(video_settings(settings)) as (web, worker_side):
        headers = await auth_headers(web, "sse_user")
        user = await web.extensions["container"].identity.users.ensure_clerk_user("sse_user")
        from services.platform.ids import new_id

        await web.extensions["container"].credits.service.grant(user.id, 100, ref=new_id("tst"), reason="t",
                                                                request_id=None)
        client = web.test_client()
        video = await (await client.post("/api/v1/videos", headers=headers,
                                         json={"prompt": "pushed", "duration_s": 1})).get_json()
        web_repo = web.extensions["container"].media.video_repository
        reads_before = web_repo.reads
        async with client.request(f"/api/v1/videos/{video['id']}/events", method="GET",
                                  headers=headers) as connection:
            await connection.send_complete()
            first = await asyncio.wait_for(connection.receive(), 5)
            assert _parse(first)[0][1]["status"] == "queued"
            # the job runs in the OTHER app (its own Redis and MongoDB connections, its own worker)
            jobs = asyncio.create_task(run_jobs(worker_side.extensions["container"]))
            rest = await _read_to_end(connection)
            assert (await jobs)[1] == 0
        assert connection.status_code == 200
        assert connection.headers["Content-Type"].startswith("text/event-stream")
        events = _parse(first + rest)
        assert [name for name, _ in events] == ["status"] * 3
        assert [data["status"] for _, data in events] == ["queued", "in_progress", "completed"]
        assert events[-1][1]["outputs"][0]["format"] == "mp4" and events[-1][1]["id"] == video["id"]
        # the web process read the record twice (ownership, then once on subscribing): no polling
        assert web_repo.reads - reads_before == 2
        assert web.extensions["container"].platform.job_events.received >= 2


async def test_image_events_of_a_finished_job_send_one_status_and_end(settings):
    async with started_video_app(video_settings(settings)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, _ = await video_user(app)
        posted = await client.post("/api/v1/images", headers=headers, json={"prompt": "done"})
        image = await posted.get_json()
        await run_jobs(container)
        response = await client.get(f"/api/v1/images/{image['id']}/events", headers=headers)
        assert response.status_code == 200 and response.content_type.startswith("text/event-stream")
        events = _parse(await response.get_data())
        assert [(name, data["status"]) for name, data in events] == [("status", "completed")]
        assert events[0][1]["outputs"][0]["url"]
        other, _ = await video_user(app, "img_other", credits=0)
        assert (await client.get(f"/api/v1/images/{image['id']}/events", headers=other)).status_code == 404
        assert (await client.get("/api/v1/images/img_nope/events", headers=headers)).status_code == 404


async def test_wait_is_woken_by_the_push_within_50ms_without_polling(settings):
    async with started_video_app(video_settings(settings)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, _ = await video_user(app)
        video_id = (await (await client.post("/api/v1/videos", headers=headers,
                                             json={"prompt": "soon", "duration_s": 2})).get_json())["id"]
        repo = container.media.video_repository
        reads_before = repo.reads
        woke: dict[str, float] = {}

        async def waiter():
            record = await container.media.videos.wait(video_id, timeout_s=30)
            woke["at"] = time.monotonic()
            return record

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0.1)  # listening now
        assert repo.reads - reads_before == 1 and not task.done()
        assert await container.media.video_jobs.run(video_id) == "completed"
        finished_at = time.monotonic()  # just after the completing write (and its publish)
        record = await asyncio.wait_for(task, 5)
        assert record.status == "completed" and record.outputs
        assert woke["at"] - finished_at < 0.05
        # one read when it started listening; none while the 2 s video was rendered: no polling
        assert repo.reads - reads_before == 1


async def test_a_lost_listener_connection_resyncs_and_keeps_delivering(settings):
    redis = Redis.from_url(settings.redis_url)
    events = RedisJobEvents(redis, channel="muse:test:job-events")
    try:
        async with events.subscribe("videos", "vid_x") as subscription:
            await events.publish("videos", "vid_x", "one")
            await events.publish("videos", "vid_y", "other job")
            assert await subscription.next(2) == "one"
            await redis.client_kill_filter(_type="pubsub")  # the hub's connection drops
            assert await subscription.next(5) == RESYNC  # re-read: a change may have been missed
            deadline = time.monotonic() + 5
            got = None
            while got in (None, RESYNC) and time.monotonic() < deadline:
                await events.publish("videos", "vid_x", "two")
                got = await subscription.next(0.3)
            assert got == "two"
    finally:
        await events.aclose()
        await redis.aclose()


async def test_a_quiet_job_gets_heartbeats_and_wait_ignores_them(settings):
    from contextlib import aclosing

    async with started_video_app(video_settings(settings)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, _ = await video_user(app)
        video_id = (await (await client.post("/api/v1/videos", headers=headers,
                                             json={"prompt": "quiet", "duration_s": 1})).get_json())["id"]
        seen = []
        videos = container.media.videos
        async with aclosing(videos.follow(video_id, timeout_s=5, heartbeat_s=0.05)) as changes:
            async for record in changes:
                seen.append(record if record is None else record.status)
                if len(seen) == 3:
                    break
        assert seen == ["queued", None, None]  # nothing changed: keep-alives, not polls
        # `wait` skips heartbeats and still ends at its deadline with the record as it is
        assert (await container.media.videos.wait(video_id, timeout_s=0.2)).status == "queued"


async def test_a_change_published_while_redis_fails_fast_is_sent_once_it_answers(settings):
    # The guard's cool-down after one slow command (a CI run lost a job's last change this way:
    # its listener waited for its deadline) fails every PUBLISH at once for a moment.
    redis = connect_redis(settings.redis_url)
    events = RedisJobEvents(redis, channel="muse:test:job-events-retry")
    try:
        async with events.subscribe("videos", "vid_r") as subscription:
            redis.guard.open_until = time.monotonic() + 0.5
            await events.publish("videos", "vid_r", "in_progress")
            await events.publish("videos", "vid_r", "completed")
            assert await subscription.next(0.3) is None  # not sent yet: Redis is failing fast
            assert [await subscription.next(5), await subscription.next(5)] == ["in_progress", "completed"]
    finally:
        await events.aclose()
        await redis.aclose()


async def test_a_change_that_cannot_be_published_in_time_is_dropped_and_the_next_ones_go(settings):
    redis = connect_redis(settings.redis_url)
    events = RedisJobEvents(redis, channel="muse:test:job-events-drop", retry_for_s=0.3)
    try:
        async with events.subscribe("videos", "vid_d") as subscription:
            redis.guard.open_until = time.monotonic() + 1.0
            await events.publish("videos", "vid_d", "lost")
            await asyncio.sleep(1.2)  # its 0.3 s of retries are over
            await events.publish("videos", "vid_d", "after")
            assert await subscription.next(5) == "after"
    finally:
        await events.aclose()
        await redis.aclose()
