"""Uploads (413/415, nothing stored), edit jobs and describe (vision through the chat providers)."""

from __future__ import annotations

import io

from quart.datastructures import FileStorage

from repositories.images import ImageDocument
from tests.fixtures.images import image_settings, media_files, picture, run_jobs, started_app
from tests.fixtures.images import image_user as _user


def _file(data: bytes, name: str, content_type: str = "image/png") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=content_type)


async def _nothing_stored(container, user_id: str) -> None:
    assert media_files(container) == []
    assert await ImageDocument.find(ImageDocument.user_id == user_id).count() == 0
    entries, _ = await container.credits.service.ledger(user_id, limit=100)
    assert [e for e in entries if e.ref and e.ref.startswith("img_")] == []


async def test_an_11_mb_upload_is_413_and_nothing_is_stored(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    big = picture() + b"\0" * (11 * 1024 * 1024)
    response = await client.post(
        "/api/v1/images/edits",
        headers=headers,
        form={"prompt": "make it blue"},
        files={"image": _file(big, "big.png")},
    )
    body = await response.get_json()
    assert response.status_code == 413 and body["code"] == "payload_too_large"
    assert response.content_type == "application/problem+json"
    await _nothing_stored(container, user_id)


async def test_a_text_file_named_png_is_415_and_nothing_is_stored(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    for path in ("/api/v1/images/edits", "/api/v1/images/describe"):
        response = await client.post(
            path,
            headers=headers,
            form={"prompt": "x"},
            files={"image": _file(b"just some text, not a picture\n", "cat.png")},
        )
        body = await response.get_json()
        assert response.status_code == 415 and body["code"] == "unsupported_media_type", path
    await _nothing_stored(container, user_id)


async def test_a_gif_is_415_even_though_it_is_an_image(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    response = await client.post(
        "/api/v1/images/edits",
        headers=headers,
        form={"prompt": "x"},
        files={"image": _file(picture("GIF"), "a.gif", "image/gif")},
    )
    assert response.status_code == 415
    await _nothing_stored(container, user_id)


async def test_edit_of_an_upload_runs_as_an_edit_job_on_a_provider_that_edits(
    images_app, fake_replicate, fake_openai_images
):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    response = await client.post(
        "/api/v1/images/edits",
        headers=headers,
        form={"prompt": "add a party hat"},
        files={
            "image": _file(picture("JPEG", (300, 200)), "me.jpg", "image/jpeg"),
            "mask": _file(picture("PNG", (300, 200), "black"), "mask.png"),
        },
    )
    body = await response.get_json()
    assert response.status_code == 202, body
    assert (
        body["kind"] == "edit"
        and body["credits_charged"] == 2
        and (body["width"], body["height"]) == (300, 200)
    )
    await run_jobs(container)
    done = await (await client.get(f"/api/v1/images/{body['id']}", headers=headers)).get_json()
    assert done["status"] == "completed" and done["provider"] == "openai"  # Flux Schnell has no edit mode
    assert fake_replicate.creates == 0 and fake_openai_images.edits == 1
    path, sent = fake_openai_images.requests[0]
    assert sent["prompt"] == "add a party hat" and sent["mask"]
    assert (done["outputs"][0]["width"], done["outputs"][0]["height"]) == (300, 200)
    # the source is ours too, and goes away with the image
    assert await client.delete(f"/api/v1/images/{body['id']}", headers=headers)
    assert media_files(container) == []


async def test_edit_of_one_of_my_images_by_source_image_id(images_app, fake_openai_images):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, _ = await _user(images_app)
    source = (
        await (await client.post("/api/v1/images", headers=headers, json={"prompt": "a cat"})).get_json()
    )["id"]
    await run_jobs(container)
    response = await client.post(
        "/api/v1/images/edits", headers=headers, json={"prompt": "make it night", "source_image_id": source}
    )
    assert response.status_code == 202, await response.get_json()
    await run_jobs(container)
    edit = await (await client.get(response.headers["Location"], headers=headers)).get_json()
    assert edit["status"] == "completed" and edit["kind"] == "edit"
    other, _ = await _user(images_app, "stranger")
    stolen = await client.post(
        "/api/v1/images/edits", headers=other, json={"prompt": "mine now", "source_image_id": source}
    )
    assert stolen.status_code == 404


async def test_describe_fursona_fails_over_across_chat_providers_and_charges_once(
    settings, fake_replicate, fake_openai_images
):
    # OpenAI chat points at a server without a chat endpoint: its vision call fails, `local` answers.
    async with started_app(
        image_settings(settings, fake_replicate, fake_openai_images, chat_providers=["openai", "local"])
    ) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, user_id = await _user(app)
        response = await client.post(
            "/api/v1/images/describe",
            headers=headers,
            form={"preset": "fursona"},
            files={"image": _file(picture("WEBP"), "dog.webp", "image/webp")},
        )
        body = await response.get_json()
        assert response.status_code == 200, body
        assert body["provider"] == "local" and body["credits_charged"] == 1
        assert "image/webp" in body["description"] and "anthropomorphic" in body["description"]
        custom = await client.post(
            "/api/v1/images/describe",
            headers=headers,
            form={"instruction": "Count the cats."},
            files={"image": _file(picture(), "c.png")},
        )
        assert "Count the cats." in (await custom.get_json())["description"]
        await _no_files(container)


async def test_describe_refunds_when_no_provider_can_see(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    before = await container.credits.service.summary(user_id, plan="free")
    response = await client.post(
        "/api/v1/images/describe",
        headers=headers,
        form={"preset": "fursona"},
        files={"image": _file(picture(), "dog.png")},
    )
    assert response.status_code == 502 and (await response.get_json())["code"] == "provider_unavailable"
    assert (await container.credits.service.summary(user_id, plan="free"))["spendable"] == before["spendable"]


async def _no_files(container) -> None:
    assert media_files(container) == []


async def test_edit_with_an_idempotency_key_is_submitted_once(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers, user_id = await _user(images_app)
    headers = {**headers, "Idempotency-Key": "edit-1"}
    answers = []
    for _ in range(2):
        response = await client.post(
            "/api/v1/images/edits",
            headers=headers,
            form={"prompt": "sepia"},
            files={"image": _file(picture(), "a.png")},
        )
        answers.append((response.status_code, await response.get_json()))
    assert answers[0][0] == answers[1][0] == 202, answers
    assert answers[0][1]["id"] == answers[1][1]["id"]
    assert await ImageDocument.find(ImageDocument.user_id == user_id).count() == 1
    assert await container.platform.queue.depth() == 1


async def test_describe_an_image_url_and_one_of_my_images(settings, fake_replicate, fake_cloudinary):
    async with started_app(image_settings(settings, fake_replicate, chat_providers=["local"])) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers, _ = await _user(app)
        fake_cloudinary.assets["pics/cat"] = picture("JPEG")
        url = f"{fake_cloudinary.url}/demo/image/upload/pics/cat.jpg"
        by_url = await client.post("/api/v1/images/describe", headers=headers, json={"image_url": url})
        assert by_url.status_code == 200, await by_url.get_json()
        assert "image/jpeg" in (await by_url.get_json())["description"]
        created = await client.post("/api/v1/images", headers=headers, json={"prompt": "a cat"})
        await run_jobs(container)
        by_id = await client.post(
            "/api/v1/images/describe",
            headers=headers,
            json={"source_image_id": (await created.get_json())["id"]},
        )
        assert by_id.status_code == 200 and "image/webp" in (await by_id.get_json())["description"]
        bad = await client.post(
            "/api/v1/images/describe", headers=headers, json={"image_url": "file:///etc/passwd"}
        )
        assert bad.status_code == 422 and (await bad.get_json())["code"] == "validation_error"
