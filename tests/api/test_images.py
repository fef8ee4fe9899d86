"""Image jobs over HTTP: real SDKs against the wire fakes, real MongoDB/Redis and a real arq worker."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.images import image_user as _user
from tests.fixtures.images import media_files, run_jobs

FLUX = "black-forest-labs/flux-schnell"


async def _ledger(container, user_id: str) -> list:
    entries, _ = await container.credits.service.ledger(user_id, limit=100)
    return entries


async def test_submit_then_poll_completes_with_outputs_in_our_storage(images_app, fake_replicate):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    response = await client.post(
        "/api/v1/images",
        headers=headers,
        json={
            "prompt": "a red fox in the snow",
            "negative_prompt": "blurry",
            "aspect_ratio": "16:9",
            "num_outputs": 2,
            "seed": 7,
        },
    )
    body = await response.get_json()
    assert response.status_code == 202, body
    assert response.headers["Location"] == f"/api/v1/images/{body['id']}"
    assert body["status"] == "queued" and body["credits_charged"] == 2 and body["outputs"] == []
    assert body["request_id"] == response.headers["X-Request-ID"]

    completed, failed = await run_jobs(container)
    assert completed >= 1 and failed == 0

    done = await (await client.get(response.headers["Location"], headers=headers)).get_json()
    assert done["status"] == "completed"
    assert (done["prompt"], done["negative_prompt"]) == ("a red fox in the snow", "blurry")
    assert (done["aspect_ratio"], done["width"], done["height"]) == ("16:9", 1344, 768)
    assert (done["provider"], done["model"], done["seed"], done["num_outputs"]) == ("replicate", FLUX, 7, 2)
    assert fake_replicate.inputs[0]["seed"] == 7 and fake_replicate.inputs[0]["aspect_ratio"] == "16:9"
    assert len(done["outputs"]) == 2
    media_dir = Path(container.settings.media_dir)
    for output in done["outputs"]:
        assert (output["width"], output["height"], output["format"]) == (1344, 768, "webp")
        assert output["url"].startswith("http://localhost:8000/media/")  # never the provider's URL
        path = output["url"].removeprefix("http://localhost:8000/media/")
        assert (media_dir / path).is_file()
        served = await client.get(f"/media/{path}")
        assert served.status_code == 200 and served.content_type == "image/webp"
        assert await served.get_data() == (media_dir / path).read_bytes()
    charges = [e for e in await _ledger(container, user_id) if e.ref == body["id"] and e.kind != "refund"]
    assert len(charges) == 1 and abs(sum(charges[0].sources.values())) == 2


async def test_replicate_failing_falls_over_to_openai(images_app, fake_replicate, fake_openai_images):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, _ = await _user(images_app)
    fake_replicate.mode = "5xx"
    response = await client.post("/api/v1/images", headers=headers, json={"prompt": "a lighthouse"})
    await run_jobs(container)
    done = await (await client.get(response.headers["Location"], headers=headers)).get_json()
    assert done["status"] == "completed"
    assert (done["provider"], done["model"]) == ("openai", "gpt-image-1")
    assert fake_replicate.creates == 1 and fake_openai_images.generations == 1
    assert (done["outputs"][0]["width"], done["outputs"][0]["height"]) == (1024, 1024)


async def test_all_providers_failing_fails_the_job_with_a_problem_and_refunds(
    images_app, fake_replicate, fake_openai_images
):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    before = await container.credits.service.summary(user_id, plan="free")
    fake_replicate.mode, fake_openai_images.mode = "fail", "5xx"
    response = await client.post(
        "/api/v1/images", headers=headers, json={"prompt": "a storm", "num_outputs": 3}
    )
    image_id = (await response.get_json())["id"]
    after = await container.credits.service.summary(user_id, plan="free")
    assert after["spendable"] == before["spendable"] - 3
    await run_jobs(container)
    failed = await (await client.get(f"/api/v1/images/{image_id}", headers=headers)).get_json()
    assert failed["status"] == "failed" and failed["outputs"] == []
    assert failed["error"]["code"] == "provider_unavailable" and failed["error"]["status"] == 502
    assert "NSFW" in failed["error"]["detail"]
    entries = [
        e for e in await _ledger(container, user_id) if e.ref == image_id or image_id in (e.reason or "")
    ]
    kinds = sorted(e.kind for e in await _ledger(container, user_id))
    assert kinds.count("refund") == 1, [(e.kind, e.ref, e.reason) for e in entries]
    assert (await container.credits.service.summary(user_id, plan="free"))["spendable"] == before["spendable"]
    assert media_files(container) == []


async def test_another_users_image_is_404_on_get_delete_and_save(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    owner, _ = await _user(images_app, "owner")
    other, _ = await _user(images_app, "other")
    image_id = (
        await (await client.post("/api/v1/images", headers=owner, json={"prompt": "mine"})).get_json()
    )["id"]
    await run_jobs(container)
    for method, path in (("GET", ""), ("DELETE", ""), ("POST", "/save")):
        response = await client.open(f"/api/v1/images/{image_id}{path}", method=method, headers=other)
        assert response.status_code == 404, (method, path)
        assert (await response.get_json())["code"] == "not_found"
    mine = await (await client.get(f"/api/v1/images/{image_id}", headers=owner)).get_json()
    assert mine["status"] == "completed" and mine["saved"] is False and len(mine["outputs"]) == 1


async def test_delete_removes_the_record_and_its_files(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, _ = await _user(images_app)
    image_id = (
        await (await client.post("/api/v1/images", headers=headers, json={"prompt": "bye"})).get_json()
    )["id"]
    await run_jobs(container)
    url = (await (await client.get(f"/api/v1/images/{image_id}", headers=headers)).get_json())["outputs"][0][
        "url"
    ]
    path = url.removeprefix("http://localhost:8000")
    assert (await client.get(path)).status_code == 200
    assert (await client.delete(f"/api/v1/images/{image_id}", headers=headers)).status_code == 204
    assert (await client.get(f"/api/v1/images/{image_id}", headers=headers)).status_code == 404
    assert (await client.get(path)).status_code == 404
    assert media_files(container) == []


async def test_gallery_lists_newest_first_with_filters_and_cursor(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, _ = await _user(images_app)
    ids = [
        (await (await client.post("/api/v1/images", headers=headers, json={"prompt": f"p{i}"})).get_json())[
            "id"
        ]
        for i in range(3)
    ]
    await run_jobs(container)
    await client.post(f"/api/v1/images/{ids[0]}/save", headers=headers)
    first = await (await client.get("/api/v1/images?limit=2", headers=headers)).get_json()
    assert [i["id"] for i in first["items"]] == [ids[2], ids[1]] and first["next_cursor"]
    rest = await (
        await client.get(f"/api/v1/images?limit=2&cursor={first['next_cursor']}", headers=headers)
    ).get_json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    saved = await (await client.get("/api/v1/images?saved=true", headers=headers)).get_json()
    assert [i["id"] for i in saved["items"]] == [ids[0]] and saved["items"][0]["expires_at"] is None
    queued = await (await client.get("/api/v1/images?status=queued", headers=headers)).get_json()
    assert queued["items"] == []
    other, _ = await _user(images_app, "someone_else")
    assert (await (await client.get("/api/v1/images", headers=other)).get_json())["items"] == []


async def test_outputs_go_to_cloudinary_when_configured_and_leave_with_the_image(
    settings, fake_replicate, fake_cloudinary
):
    from pydantic import SecretStr

    from tests.fixtures.images import image_settings, started_app

    configured = image_settings(
        settings, fake_replicate, cloudinary_url=SecretStr(fake_cloudinary.cloudinary_url)
    )
    async with started_app(configured) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, user_id = await _user(app)
        image_id = (
            await (
                await client.post(
                    "/api/v1/images", headers=headers, json={"prompt": "clouds", "num_outputs": 2}
                )
            ).get_json()
        )["id"]
        await run_jobs(container)
        done = await (await client.get(f"/api/v1/images/{image_id}", headers=headers)).get_json()
        assert done["status"] == "completed"
        assert set(fake_cloudinary.assets) == {f"muse/{user_id}/{image_id}_{i}" for i in range(2)}
        assert all(o["url"].startswith(fake_cloudinary.url) for o in done["outputs"])
        assert fake_cloudinary.bad_signatures == 0
        assert (await client.delete(f"/api/v1/images/{image_id}", headers=headers)).status_code == 204
        assert fake_cloudinary.assets == {} and fake_cloudinary.destroys == 2


async def test_media_route_refuses_paths_outside_the_media_dir(images_app):
    client = images_app.test_client()
    for path in ("/media/../../etc/passwd", "/media/%2e%2e/secret", "/media/nope.webp"):
        assert (await client.get(path)).status_code == 404


async def test_live_settings_switch_images_off_and_skip_a_disabled_provider(
    images_app, fake_replicate, fake_openai_images
):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    await container.platform.live_settings.update({"images_enabled": False}, admin_id="adm", request_id=None)
    off = await client.post("/api/v1/images", headers=headers, json={"prompt": "nope"})
    assert off.status_code == 503 and (await off.get_json())["code"] == "feature_disabled"
    assert [e for e in await _ledger(container, user_id) if e.ref and e.ref.startswith("img_")] == []
    await container.platform.live_settings.update(
        {"images_enabled": True, "providers": {"replicate": False}}, admin_id="adm", request_id=None
    )
    image_id = (
        await (await client.post("/api/v1/images", headers=headers, json={"prompt": "ok"})).get_json()
    )["id"]
    await run_jobs(container)
    done = await (await client.get(f"/api/v1/images/{image_id}", headers=headers)).get_json()
    assert done["provider"] == "openai" and fake_replicate.creates == 0
