"""Video jobs (contract §15): local MP4s, image-to-video, failover and refunds, storage, ranges."""

from __future__ import annotations

import base64
import io

from PIL import Image

from providers.mp4 import probe
from services.media.ports.videos import VideoRequest, VideoResult
from services.platform.errors import UpstreamError
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import run_jobs
from tests.fixtures.videos import media_path, started_video_app, video_settings, video_user


async def _refunds(container, user_id: str) -> list:
    entries, _ = await container.credits.service.ledger(user_id, limit=100)
    return [e for e in entries if e.kind == "refund"]


async def _balance(container, user_id: str) -> int:
    return (await container.credits.service.summary(user_id, plan="free"))["spendable"]


async def test_a_local_video_job_completes_with_a_playable_mp4_and_a_poster(settings):
    async with started_video_app(video_settings(settings)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, user_id = await video_user(app)
        before = await _balance(container, user_id)
        response = await client.post("/api/v1/videos", headers=headers,
                                     json={"prompt": "a red fox running", "duration_s": 2,
                                           "aspect_ratio": "9:16"})
        queued = await response.get_json()
        assert response.status_code == 202, queued
        assert queued["id"].startswith("vid_") and queued["status"] == "queued"
        assert queued["kind"] == "text_to_video" and queued["duration_s"] == 2
        assert queued["credits_charged"] == 20 and await _balance(container, user_id) == before - 20
        assert response.headers["Location"] == f"/api/v1/videos/{queued['id']}"

        assert (await run_jobs(container))[1] == 0  # (a minute cron may join the burst)
        done = await (await client.get(f"/api/v1/videos/{queued['id']}", headers=headers)).get_json()
        assert done["status"] == "completed" and done["provider"] == "local" and done["fps"] == 12
        [output] = done["outputs"]
        assert output["format"] == "mp4" and output["duration_s"] == 2.0

        media = await client.get(media_path(output["url"]))
        assert media.status_code == 200 and media.content_type == "video/mp4"
        info = probe(await media.get_data())
        assert info.container.startswith("mov,mp4") and info.codec == "h264"
        assert info.frames == 24 and info.fps == 12 and info.duration_s == 2.0
        assert (info.width, info.height) == (output["width"], output["height"])
        assert abs(info.width / info.height - 9 / 16) < 0.01  # the requested aspect ratio
        poster = await client.get(media_path(output["poster_url"]))
        with Image.open(io.BytesIO(await poster.get_data())) as still:
            assert still.format == "WEBP" and still.size == (info.width, info.height)

        listed = await (await client.get("/api/v1/videos", headers=headers)).get_json()
        assert [v["id"] for v in listed["items"]] == [queued["id"]]
        images = await (await client.get("/api/v1/images", headers=headers)).get_json()
        assert images["items"] == []  # a video is not an image


async def test_local_media_answers_range_requests_so_browsers_can_seek(settings):
    async with started_video_app(video_settings(settings)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, _ = await video_user(app)
        video_id = (await (await client.post("/api/v1/videos", headers=headers,
                                             json={"prompt": "waves", "duration_s": 1})).get_json())["id"]
        await run_jobs(container)
        url = media_path((await (await client.get(f"/api/v1/videos/{video_id}",
                                                  headers=headers)).get_json())["outputs"][0]["url"])
        whole = await (await client.get(url)).get_data()
        part = await client.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
        assert await part.get_data() == whole[100:200]
        assert (await client.get(url)).headers.get("Accept-Ranges") == "bytes"
        tail = await client.get(url, headers={"Range": f"bytes={len(whole) - 10}-"})
        assert tail.status_code == 206 and await tail.get_data() == whole[-10:]


async def test_image_to_video_sends_the_source_image_to_the_provider(settings, fake_replicate):
    async with started_video_app(video_settings(settings, fake_replicate)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, user_id = await video_user(app)
        image = await (await client.post("/api/v1/images", headers=headers,
                                         json={"prompt": "a lighthouse", "output_format": "png"})).get_json()
        await run_jobs(container)
        image = await (await client.get(f"/api/v1/images/{image['id']}", headers=headers)).get_json()
        source_bytes = await (await client.get(media_path(image["outputs"][0]["url"]))).get_data()

        response = await client.post("/api/v1/videos", headers=headers, json={
            "prompt": "the light turns", "source_image_id": image["id"], "duration_s": 3,
            "aspect_ratio": "1:1"})
        video = await response.get_json()
        assert response.status_code == 202, video
        assert video["kind"] == "image_to_video" and video["source_image_id"] == image["id"]
        assert (await run_jobs(container))[1] == 0  # (a minute cron may join the burst)
        done = await (await client.get(f"/api/v1/videos/{video['id']}", headers=headers)).get_json()
        assert done["status"] == "completed" and done["provider"] == "replicate"
        sent = fake_replicate.inputs[-1]
        assert sent["duration"] == 3 and sent["aspect_ratio"] == "1:1" and sent["prompt"] == "the light turns"
        prefix, _, data = sent["start_image"].partition(",")
        assert prefix == "data:image/png;base64" and base64.b64decode(data) == source_bytes
        info = probe(await (await client.get(media_path(done["outputs"][0]["url"]))).get_data())
        assert info.frames == 18 and info.codec == "h264"  # the fake's 3 s at 6 fps, copied to our storage

        # another user's image cannot be the source: 404, nothing charged
        other_headers, other_id = await video_user(app, "vid_other")
        before = await _balance(container, other_id)
        stolen = await client.post("/api/v1/videos", headers=other_headers,
                                   json={"prompt": "mine now", "source_image_id": image["id"]})
        assert stolen.status_code == 404 and await _balance(container, other_id) == before


async def test_the_local_provider_animates_the_source_image(settings):
    async with started_video_app(video_settings(settings)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, _ = await video_user(app)
        image = await (await client.post("/api/v1/images", headers=headers,
                                         json={"prompt": "green field"})).get_json()
        await run_jobs(container)
        image = await (await client.get(f"/api/v1/images/{image['id']}", headers=headers)).get_json()
        source = await (await client.get(media_path(image["outputs"][0]["url"]))).get_data()
        with Image.open(io.BytesIO(source)) as im:
            source_colour = im.convert("RGB").resize((1, 1)).getpixel((0, 0))
        video = await (await client.post("/api/v1/videos", headers=headers, json={
            "prompt": "green field", "source_image_id": image["id"], "duration_s": 1})).get_json()
        await run_jobs(container)
        done = await (await client.get(f"/api/v1/videos/{video['id']}", headers=headers)).get_json()
        poster = await (await client.get(media_path(done["outputs"][0]["poster_url"]))).get_data()
        with Image.open(io.BytesIO(poster)) as still:
            first_colour = still.convert("RGB").resize((1, 1)).getpixel((0, 0))
        # the first frame is the source picture (plus a small moving ball)
        assert sum(abs(a - b) for a, b in zip(source_colour, first_colour, strict=True)) < 60


class BrokenVideoProvider:
    """A second video provider that always fails (counts its calls)."""

    name, model, supports_image = "local", "broken-1", True

    def __init__(self) -> None:
        self.calls = 0

    async def generate(self, request: VideoRequest) -> VideoResult:
        self.calls += 1
        raise UpstreamError("local: broken on purpose")


async def test_a_provider_failure_fails_over_then_refunds_exactly_once(settings, fake_replicate):
    fake_replicate.mode = "5xx"
    broken = BrokenVideoProvider()
    async with started_video_app(video_settings(settings, fake_replicate),
                                 extra_video_providers=[broken]) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, user_id = await video_user(app)
        before = await _balance(container, user_id)
        response = await client.post("/api/v1/videos", headers=headers,
                                     json={"prompt": "doomed", "duration_s": 4})
        video_id = (await response.get_json())["id"]
        assert await _balance(container, user_id) == before - 40
        assert (await run_jobs(container))[1] == 0  # (a minute cron may join the burst)
        failed = await (await client.get(f"/api/v1/videos/{video_id}", headers=headers)).get_json()
        assert failed["status"] == "failed" and failed["error"]["code"] == "provider_unavailable"
        assert fake_replicate.creates == 1 and broken.calls == 1  # failed over to the second provider
        assert "broken on purpose" in failed["error"]["detail"]
        assert len(await _refunds(container, user_id)) == 1
        assert await _balance(container, user_id) == before
        # the sweeper, a duplicate delivery and a second failure report refund nothing more
        await container.media.video_jobs.sweep()
        assert await container.media.video_jobs.run(video_id) is None
        record = await container.media.video_repository.get(video_id)
        assert not await container.media.video_jobs.fail(record, UpstreamError("again"))
        assert len(await _refunds(container, user_id)) == 1 and await _balance(container, user_id) == before
        # the admin stats count the video job and its failure once (not its refund as another failure)
        admin = await auth_headers(app, "vid_admin", role="ADMIN")
        stats = await (await client.get("/api/v1/admin/stats", headers=admin)).get_json()
        assert stats["generations"]["videos_24h"] == 1 and stats["generations"]["failed_24h"] == 1
        assert stats["users"]["active_24h"] == 1


async def test_a_failing_first_provider_fails_over_to_the_next(settings, fake_replicate):
    fake_replicate.mode = "fail"
    s = video_settings(settings, fake_replicate, providers=["replicate", "local"])
    async with started_video_app(s) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, user_id = await video_user(app)
        response = await client.post("/api/v1/videos", headers=headers,
                                     json={"prompt": "second try", "duration_s": 1})
        body = await response.get_json()
        assert response.status_code == 202
        await run_jobs(container)
        done = await (await client.get(f"/api/v1/videos/{body['id']}", headers=headers)).get_json()
        assert done["status"] == "completed" and done["provider"] == "local" and fake_replicate.creates == 1
        assert await _refunds(container, user_id) == []


async def test_wait_true_answers_the_failure_problem_with_the_refund(settings, fake_replicate):
    fake_replicate.mode = "fail"
    async with started_video_app(video_settings(settings, fake_replicate, worker_in_process=True)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, user_id = await video_user(app)
        before = await _balance(container, user_id)
        response = await client.post("/api/v1/videos", headers=headers,
                                     json={"prompt": "no luck", "duration_s": 2, "wait": True})
        problem = await response.get_json()
        assert response.status_code == 502 and problem["code"] == "provider_unavailable"
        assert problem["credits_refunded"] == 20 and problem["video_id"].startswith("vid_")
        assert await _balance(container, user_id) == before and len(await _refunds(container, user_id)) == 1

        fake_replicate.mode = "ok"
        done = await client.post("/api/v1/videos", headers=headers, json={"prompt": "luck", "wait": True})
        body = await done.get_json()
        assert done.status_code == 201 and body["status"] == "completed" and body["outputs"][0]["poster_url"]


async def test_video_validation_ownership_save_and_delete(settings):
    async with started_video_app(video_settings(settings)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, user_id = await video_user(app)
        for bad in ({"prompt": ""}, {"prompt": "x", "duration_s": 0}, {"prompt": "x", "duration_s": 11},
                    {"prompt": "x", "aspect_ratio": "5:4"}, {"prompt": "x", "model": "nope"}):
            response = await client.post("/api/v1/videos", headers=headers, json=bad)
            assert response.status_code == 422, bad
        # only the test grant
        assert len((await container.credits.service.ledger(user_id, limit=100))[0]) == 1
        poor_headers, _ = await video_user(app, "vid_poor", credits=0)
        poor = await client.post("/api/v1/videos", headers=poor_headers,
                                 json={"prompt": "x", "duration_s": 10})
        assert poor.status_code == 402
        video_id = (await (await client.post("/api/v1/videos", headers=headers,
                                             json={"prompt": "keep me", "duration_s": 1})).get_json())["id"]
        await run_jobs(container)
        other_headers, _ = await video_user(app, "vid_other2", credits=0)
        for method, path in (("GET", ""), ("DELETE", ""), ("POST", "/save"), ("GET", "/events")):
            response = await client.open(f"/api/v1/videos/{video_id}{path}", method=method,
                                         headers=other_headers)
            assert response.status_code == 404, (method, path)
        saved = await (await client.post(f"/api/v1/videos/{video_id}/save", headers=headers)).get_json()
        assert saved["saved"] is True and saved["expires_at"] is None
        media = container.settings.media_dir
        assert len([p for p in media.rglob("*") if p.is_file()]) == 2  # the MP4 and its poster
        assert (await client.delete(f"/api/v1/videos/{video_id}", headers=headers)).status_code == 204
        assert [p for p in media.rglob("*") if p.is_file()] == []
        assert (await client.get(f"/api/v1/videos/{video_id}", headers=headers)).status_code == 404


async def test_videos_are_stored_on_cloudinary_as_video_resources(settings, fake_cloudinary):
    from pydantic import SecretStr

    s = video_settings(settings, cloudinary_url=SecretStr(fake_cloudinary.cloudinary_url))
    async with started_video_app(s) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, _ = await video_user(app)
        video_id = (await (await client.post("/api/v1/videos", headers=headers,
                                             json={"prompt": "clouds", "duration_s": 1})).get_json())["id"]
        await run_jobs(container)
        done = await (await client.get(f"/api/v1/videos/{video_id}", headers=headers)).get_json()
        output = done["outputs"][0]
        assert "/video/upload/" in output["url"] and "/image/upload/" in output["poster_url"]
        assert sorted(fake_cloudinary.resource_types.values()) == ["image", "video"]
        assert (await client.delete(f"/api/v1/videos/{video_id}", headers=headers)).status_code == 204
        assert fake_cloudinary.assets == {} and fake_cloudinary.destroys == 2
