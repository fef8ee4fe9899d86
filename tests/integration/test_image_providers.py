"""Image provider adapters and storage adapters: the real SDKs against the wire fakes."""

from __future__ import annotations

import asyncio

import pytest

from providers.cloudinary_storage import CloudinaryStorage
from providers.local_images import LocalImageProvider
from providers.local_storage import LocalStorage
from providers.openai_images import OpenAIImageProvider
from providers.replicate_images import ReplicateImageProvider
from services.media.ports.images import ImageFile, ImageRequest
from services.platform.errors import UpstreamError
from tests.fixtures.images import picture

FLUX = "black-forest-labs/flux-schnell"


def replicate_for(fake) -> ReplicateImageProvider:
    return ReplicateImageProvider("r8_test", model=FLUX, base_url=fake.url, poll_interval=0.01)


@pytest.mark.parametrize("output_kind", ["http", "data"])
async def test_replicate_polls_until_succeeded_and_downloads_each_output(fake_replicate, output_kind):
    fake_replicate.output_kind = output_kind
    result = await replicate_for(fake_replicate).generate(
        ImageRequest(prompt="a red fox", aspect_ratio="16:9", num_outputs=2, seed=42)
    )
    assert result.provider == "replicate" and result.model == FLUX and result.seed == 42
    assert [(f.width, f.height, f.format) for f in result.files] == [(1344, 768, "webp")] * 2
    assert fake_replicate.creates == 1 and fake_replicate.polls == 1
    assert fake_replicate.inputs == [
        {"prompt": "a red fox", "aspect_ratio": "16:9", "num_outputs": 2, "seed": 42, "output_format": "webp"}
    ]
    assert fake_replicate.downloads == (2 if output_kind == "http" else 0)


async def test_replicate_picks_a_seed_when_none_is_given(fake_replicate):
    result = await replicate_for(fake_replicate).generate(ImageRequest(prompt="a fox"))
    assert isinstance(result.seed, int) and fake_replicate.inputs[0]["seed"] == result.seed


@pytest.mark.parametrize("mode", ["fail", "5xx"])
async def test_replicate_failures_become_upstream_errors(fake_replicate, mode):
    fake_replicate.mode = mode
    with pytest.raises(UpstreamError):
        await replicate_for(fake_replicate).generate(ImageRequest(prompt="a fox"))


async def test_replicate_cancels_a_prediction_it_stops_waiting_for(fake_replicate):
    fake_replicate.mode = "running"  # never finishes: Replicate would bill until its own limit
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):  # the image timeout, or a worker shutting down
            await replicate_for(fake_replicate).generate(ImageRequest(prompt="a slow fox"))
    assert fake_replicate.creates == 1 and fake_replicate.cancels == 1


async def test_openai_generates_with_the_size_of_the_aspect_ratio(fake_openai_images):
    provider = OpenAIImageProvider(
        "sk-test", model="gpt-image-1", base_url=fake_openai_images.url + "/v1", max_retries=0
    )
    result = await provider.generate(
        ImageRequest(prompt="a cat", aspect_ratio="9:16", num_outputs=2, negative_prompt="dogs")
    )
    assert (result.provider, result.model, len(result.files)) == ("openai", "gpt-image-1", 2)
    assert (result.files[0].width, result.files[0].height) == (1024, 1536)
    path, body = fake_openai_images.requests[0]
    assert path == "/v1/images/generations"
    assert body["model"] == "gpt-image-1" and body["n"] == 2 and body["size"] == "1024x1536"
    assert "Avoid: dogs" in body["prompt"]


async def test_openai_edit_sends_the_image_and_mask(fake_openai_images):
    provider = OpenAIImageProvider(
        "sk-test", model="gpt-image-1", base_url=fake_openai_images.url + "/v1", max_retries=0
    )
    result = await provider.edit(
        ImageRequest(
            prompt="add a hat",
            kind="edit",
            source=picture(size=(80, 60)),
            mask=picture(size=(80, 60), colour="black"),
        )
    )
    assert (result.files[0].width, result.files[0].height) == (80, 60)
    path, body = fake_openai_images.requests[0]
    assert path == "/v1/images/edits" and body["prompt"] == "add a hat"
    assert ImageFile.from_bytes(body["image"]).format == "png" and body["mask"]


@pytest.mark.parametrize("mode", ["fail", "5xx", "429"])
async def test_openai_failures_become_upstream_errors(fake_openai_images, mode):
    fake_openai_images.mode = mode
    provider = OpenAIImageProvider(
        "sk-test", model="gpt-image-1", base_url=fake_openai_images.url + "/v1", max_retries=0
    )
    with pytest.raises(UpstreamError):
        await provider.generate(ImageRequest(prompt="a cat"))


async def test_local_provider_is_deterministic_and_sized_by_aspect_ratio():
    provider = LocalImageProvider()
    first = await provider.generate(ImageRequest(prompt="a lighthouse", aspect_ratio="3:2"))
    again = await provider.generate(ImageRequest(prompt="a lighthouse", aspect_ratio="3:2"))
    other = await provider.generate(ImageRequest(prompt="a forest", aspect_ratio="3:2"))
    assert first.files[0].data == again.files[0].data != other.files[0].data
    assert (first.files[0].width, first.files[0].height) == (1216, 832)


async def test_local_storage_puts_reads_and_deletes(tmp_path):
    storage = LocalStorage(tmp_path, base_url="http://localhost:8000")
    stored = await storage.put(b"bytes", folder="usr_1", name="img_1_0", content_type="image/webp")
    assert stored.url == "http://localhost:8000/media/usr_1/img_1_0.webp"
    assert (tmp_path / stored.key).read_bytes() == b"bytes" == await storage.get(stored)
    assert await storage.delete(stored.key) is True and not (tmp_path / stored.key).exists()
    assert await storage.delete(stored.key) is False
    with pytest.raises(ValueError):
        storage.path_of("../outside")


async def test_cloudinary_storage_uploads_signed_into_the_user_folder_and_destroys(fake_cloudinary):
    storage = CloudinaryStorage(fake_cloudinary.cloudinary_url)
    data = picture("WEBP")
    stored = await storage.put(data, folder="usr_1", name="img_1_0", content_type="image/webp")
    assert stored.key == "muse/usr_1/img_1_0"
    assert fake_cloudinary.assets[stored.key] == data and fake_cloudinary.bad_signatures == 0
    assert await storage.get(stored) == data
    assert await storage.delete(stored.key) is True
    assert stored.key not in fake_cloudinary.assets and fake_cloudinary.destroys == 1


async def test_cloudinary_private_uploads_are_authenticated_assets_with_unguessable_names(fake_cloudinary):
    import httpx

    storage = CloudinaryStorage(fake_cloudinary.cloudinary_url)
    data = picture("PNG")
    stored = await storage.put(data, folder="usr_1", name="img_1_source", content_type="image/png",
                               private=True)
    prefix = "muse/usr_1/img_1_source_"
    assert stored.key.startswith(prefix) and len(stored.key) >= len(prefix) + 16
    assert stored.key in fake_cloudinary.authenticated and "/image/authenticated/s--" in stored.url
    assert await storage.get(stored) == data  # the signed URL kept server-side delivers it
    public = f"{fake_cloudinary.url}/{fake_cloudinary.cloud}/image/upload/v1700000000/{stored.key}.png"
    async with httpx.AsyncClient() as http:
        assert (await http.get(public)).status_code == 404  # not as a public upload


async def test_cloudinary_wrong_secret_is_refused_and_failures_are_upstream_errors(fake_cloudinary):
    bad = CloudinaryStorage(fake_cloudinary.cloudinary_url.replace(":shhh@", ":wrong@"))
    with pytest.raises(UpstreamError):
        await bad.put(picture(), folder="u", name="n", content_type="image/png")
    assert fake_cloudinary.bad_signatures == 1 and fake_cloudinary.assets == {}
    fake_cloudinary.mode = "fail"
    with pytest.raises(UpstreamError):
        await CloudinaryStorage(fake_cloudinary.cloudinary_url).put(
            picture(), folder="u", name="n", content_type="image/png"
        )
