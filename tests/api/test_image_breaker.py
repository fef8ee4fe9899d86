"""The image chain and describe share the chat chain's Redis circuit breaker (real Redis, real arq worker).

Image providers count under their own names (`images:replicate`, `images:openai`), so the OpenAI
image provider and the OpenAI chat provider have separate circuits; describe goes through the chat
providers and uses the chat names.
"""

from __future__ import annotations

import io
import time
from datetime import timedelta

from quart.datastructures import FileStorage

from services.platform.clock import clock
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import image_settings, picture, run_jobs, started_app

THRESHOLD, TIMEOUT_S = 2, 4.0


def _settings(settings, fake_replicate, fake_openai_images):
    return image_settings(settings, fake_replicate, fake_openai_images, image_timeout_s=TIMEOUT_S,
                          breaker_failure_threshold=THRESHOLD, breaker_cooldown_s=30.0)


async def _submit(client, headers, prompt: str) -> str:
    response = await client.post("/api/v1/images", headers=headers, json={"prompt": prompt})
    assert response.status_code == 202, await response.get_json()
    return (await response.get_json())["id"]


async def _image(client, headers, image_id: str) -> dict:
    return await (await client.get(f"/api/v1/images/{image_id}", headers=headers)).get_json()


async def _stats(app) -> dict:
    headers = await auth_headers(app, "breaker_admin", role="ADMIN")
    response = await app.test_client().get("/api/v1/admin/stats", headers=headers)
    body = await response.get_json()
    assert response.status_code == 200, body
    return body


async def _open_replicate(app, fake_replicate, headers) -> list[str]:
    """THRESHOLD jobs while Replicate answers 503: each fails over to OpenAI; Replicate's circuit opens."""
    client, container = app.test_client(), app.extensions["container"]
    fake_replicate.mode = "5xx"
    ids = [await _submit(client, headers, f"harbour {i}") for i in range(THRESHOLD)]
    await run_jobs(container)
    for image_id in ids:
        assert (await _image(client, headers, image_id))["provider"] == "openai"
    assert fake_replicate.creates == THRESHOLD
    return ids


async def test_an_open_replicate_circuit_sends_the_next_job_straight_to_openai(
    settings, fake_replicate, fake_openai_images
):
    async with started_app(_settings(settings, fake_replicate, fake_openai_images)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers = await auth_headers(app, "img_user")
        await _open_replicate(app, fake_replicate, headers)

        # Were Replicate still tried, this job would wait its share of the budget (TIMEOUT_S / 2) on it.
        fake_replicate.mode = "hang"
        image_id = await _submit(client, headers, "a lighthouse")
        started = time.monotonic()
        await run_jobs(container)
        elapsed = time.monotonic() - started
        done = await _image(client, headers, image_id)
        assert done["status"] == "completed" and done["provider"] == "openai"
        assert fake_replicate.creates == THRESHOLD  # not called at all
        assert fake_openai_images.generations == THRESHOLD + 1
        assert elapsed < TIMEOUT_S / 2, elapsed

        body = await _stats(app)
        assert body["image_providers"]["replicate"] == {
            "enabled": True, "kinds": ["image"], "calls": THRESHOLD, "failures": THRESHOLD, "state": "open",
            "consecutive_failures": THRESHOLD}
        assert body["image_providers"]["openai"] == {
            "enabled": True, "kinds": ["image"], "calls": THRESHOLD + 1, "failures": 0, "state": "closed",
            "consecutive_failures": 0}
        # The OpenAI chat provider's circuit is another one: no chat call was made.
        assert body["providers"]["openai"]["calls"] == 0
        assert (await container.platform.breaker.state("images:replicate"))["state"] == "open"


async def test_after_the_cool_down_one_trial_job_closes_the_circuit_again(
    settings, fake_replicate, fake_openai_images
):
    async with started_app(_settings(settings, fake_replicate, fake_openai_images)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers = await auth_headers(app, "img_user")
        await _open_replicate(app, fake_replicate, headers)
        fake_replicate.mode = "ok"
        clock.offset = timedelta(seconds=31)
        assert (await _stats(app))["image_providers"]["replicate"]["state"] == "half_open"

        image_id = await _submit(client, headers, "the trial")
        await run_jobs(container)
        assert (await _image(client, headers, image_id))["provider"] == "replicate"
        assert fake_replicate.creates == THRESHOLD + 1
        replicate = (await _stats(app))["image_providers"]["replicate"]
        assert (replicate["state"], replicate["calls"], replicate["failures"]) == (
            "closed", THRESHOLD + 1, THRESHOLD)


async def test_a_failed_trial_opens_the_circuit_for_another_cool_down(
    settings, fake_replicate, fake_openai_images
):
    async with started_app(_settings(settings, fake_replicate, fake_openai_images)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers = await auth_headers(app, "img_user")
        await _open_replicate(app, fake_replicate, headers)
        clock.offset = timedelta(seconds=31)
        trial = await _submit(client, headers, "the trial")
        await run_jobs(container)  # Replicate still answers 503: one trial call, then OpenAI
        assert (await _image(client, headers, trial))["provider"] == "openai"
        assert fake_replicate.creates == THRESHOLD + 1
        after = await _submit(client, headers, "after the trial")
        await run_jobs(container)
        assert (await _image(client, headers, after))["provider"] == "openai"
        assert fake_replicate.creates == THRESHOLD + 1
        assert (await _stats(app))["image_providers"]["replicate"]["state"] == "open"


async def test_chat_failures_of_openai_do_not_open_the_openai_image_circuit(
    settings, fake_replicate, fake_openai_images
):
    async with started_app(_settings(settings, fake_replicate, fake_openai_images)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers = await auth_headers(app, "img_user")
        for _ in range(THRESHOLD):
            await container.platform.breaker.record_failure("openai")  # the chat provider of that name
        fake_replicate.mode = "5xx"
        image_id = await _submit(client, headers, "a storm")
        await run_jobs(container)
        assert (await _image(client, headers, image_id))["provider"] == "openai"
        assert fake_openai_images.generations == 1
        body = await _stats(app)
        assert body["providers"]["openai"]["state"] == "open"
        assert body["image_providers"]["openai"]["state"] == "closed"
        assert body["image_providers"]["openai"]["calls"] == 1


async def test_every_image_circuit_open_fails_the_job_without_calls_and_refunds(
    settings, fake_replicate, fake_openai_images
):
    async with started_app(_settings(settings, fake_replicate, fake_openai_images)) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers = await auth_headers(app, "img_user")
        user = await container.identity.users.ensure_clerk_user("img_user")
        for name in ("images:replicate", "images:openai"):
            for _ in range(THRESHOLD):
                await container.platform.breaker.record_failure(name)
        before = (await container.credits.service.summary(user.id, plan="free"))["spendable"]
        image_id = await _submit(client, headers, "nobody home")
        await run_jobs(container)
        failed = await _image(client, headers, image_id)
        assert failed["status"] == "failed" and failed["error"]["code"] == "provider_unavailable"
        assert fake_replicate.creates == 0 and fake_openai_images.generations == 0
        assert (await container.credits.service.summary(user.id, plan="free"))["spendable"] == before


async def test_describe_skips_a_chat_provider_whose_circuit_is_open(chat_app_factory, fake_gemini):
    async with chat_app_factory(image_providers=["local"]) as app:
        client, container = app.test_client(), app.extensions["container"]
        headers = await auth_headers(app, "img_user")
        threshold = container.settings.breaker_failure_threshold
        fake_gemini.mode = "503"

        async def describe() -> dict:
            response = await client.post(
                "/api/v1/images/describe", headers=headers, form={"preset": "fursona"},
                files={"image": FileStorage(io.BytesIO(picture()), filename="d.png",
                                            content_type="image/png")})
            body = await response.get_json()
            assert response.status_code == 200, body
            return body

        for _ in range(threshold):
            assert (await describe())["provider"] == "openai"
        gemini_calls = fake_gemini.count()
        assert gemini_calls == threshold
        assert (await describe())["provider"] == "openai"
        assert fake_gemini.count() == gemini_calls  # skipped while its circuit is open
        body = await _stats(app)
        assert body["providers"]["gemini"] == {"enabled": True, "kinds": ["chat"], "calls": threshold,
                                               "failures": threshold, "state": "open",
                                               "consecutive_failures": threshold}
        assert body["providers"]["openai"]["calls"] == threshold + 1
