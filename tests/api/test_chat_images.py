"""Images in chat messages (contract §18) through /api/v1/chat and /v1/chat/completions, JSON and
streamed, against the Gemini and OpenAI wire fakes (real SDKs), real Mongo/Redis."""

from __future__ import annotations

import base64
import hashlib
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from services.media.image_models import ImageRecord, StoredFile
from services.platform.clock import utcnow
from tests.api.test_chat_api import events, ledger_kinds, post, user_of
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import media_files, picture

CHAT = "/v1/chat/completions"


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def with_image(text: str, *urls: str, **extra) -> dict:
    parts = [{"type": "text", "text": text}, *({"type": "image_url", "image_url": {"url": u}} for u in urls)]
    return {"messages": [{"role": "user", "content": parts}], **extra}


async def v1(app, payload: dict, clerk_id: str = "alice"):
    headers = await auth_headers(app, clerk_id)
    response = await app.test_client().post(CHAT, json={"model": "default", **payload}, headers=headers)
    return response, await response.get_json()


async def gallery_image(app, clerk_id: str, data: bytes) -> str:
    """A completed image of `clerk_id`'s gallery whose output is `data`; its id."""
    container = app.extensions["container"]
    user = await user_of(app, clerk_id)
    record_id = f"img_{hashlib.sha256(data + clerk_id.encode()).hexdigest()[:12]}"
    stored = await container.media.storage.put(data, folder=user.id, name=f"{record_id}_0",
                                               content_type="image/png")
    now = utcnow()
    await container.media.image_repository.create(ImageRecord(
        id=record_id, user_id=user.id, status="completed", prompt="a teal square", width=64, height=48,
        outputs=[StoredFile(key=stored.key, url=stored.url, width=64, height=48, format="png")],
        created_at=now, updated_at=now, expires_at=now + timedelta(hours=1), output_format="png"))
    return record_id


async def test_a_data_url_image_reaches_gemini_as_inline_data_is_charged_and_kept(chat_app, fake_gemini,
                                                                                    fake_openai):
    image = picture("PNG", colour="red")
    response = await post(chat_app, with_image("What colour is this?", data_url(image)))
    data = await response.get_json()
    assert response.status_code == 200, data
    assert data["provider"] == "gemini" and data["credits_charged"] == 2  # chat 1 + chat_image 1
    assert fake_gemini.images == [("image/png", image)]  # the very bytes, as inlineData
    parts = fake_gemini.calls[0].body["contents"][0]["parts"]
    assert parts[0]["inlineData"]["mime_type"] == "image/png" and parts[1] == {"text": "What colour is this?"}
    auth = await auth_headers(chat_app, "alice")
    client = chat_app.test_client()
    url = f"/api/v1/conversations/{data['conversation_id']}"
    convo = await (await client.get(url, headers=auth)).get_json()
    user_turn = convo["messages"][0]
    assert user_turn["content"] == "What colour is this?" and len(user_turn["images"]) == 1
    shown = user_turn["images"][0]
    assert shown["content_type"] == "image/png" and shown["image_id"] is None
    got = await client.get(shown["url"], headers=auth)
    assert got.status_code == 200 and await got.get_data() == image
    assert got.headers["Content-Type"] == "image/png"
    private = [p for p in media_files(chat_app.extensions["container"]) if p.read_bytes() == image]
    assert len(private) == 1 and "_private" in private[0].parts  # kept privately, never at /media/
    other = await auth_headers(chat_app, "mallory")
    assert (await client.get(shown["url"], headers=other)).status_code == 404


async def test_openai_receives_the_image_as_a_data_url_part_after_failover(chat_app, fake_gemini,
                                                                           fake_openai):
    fake_gemini.mode = "503"
    image = picture("JPEG", colour="blue")
    response = await post(chat_app, with_image("Describe", data_url(image, "image/jpeg")))
    data = await response.get_json()
    assert response.status_code == 200, data
    assert data["provider"] == "openai" and data["credits_charged"] == 2
    assert fake_gemini.images == [("image/jpeg", image)]  # tried first, failed
    assert fake_openai.images == [("image/jpeg", image)]
    content = fake_openai.calls[0].body["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "Describe"} and content[1]["type"] == "image_url"


async def test_a_streamed_chat_with_an_image_sends_it_and_charges_for_it(chat_app, fake_gemini):
    image = picture("WEBP")
    payload = with_image("Stream it", data_url(image, "image/webp"), stream=True)
    response = await post(chat_app, payload)
    got = events(await response.get_data(as_text=True))
    assert response.status_code == 200 and got[-1][0] == "done"
    assert got[-1][1]["credits_charged"] == 2 and fake_gemini.images == [("image/webp", image)]
    assert fake_gemini.count("streamGenerateContent") == 1


async def test_requests_differing_only_in_the_image_are_two_cache_entries(chat_app, fake_gemini):
    red, blue = picture(colour="red"), picture(colour="blue")
    first = await (await post(chat_app, with_image("Which colour?", data_url(red)))).get_json()
    second = await (await post(chat_app, with_image("Which colour?", data_url(blue)))).get_json()
    assert first["cached"] is False and second["cached"] is False and second["credits_charged"] == 2
    assert fake_gemini.images == [("image/png", red), ("image/png", blue)]
    again = await (await post(chat_app, with_image("Which colour?", data_url(blue)))).get_json()
    assert again["cached"] is True and again["credits_charged"] == 0 and fake_gemini.count() == 2


async def test_a_later_turn_sends_the_kept_image_again_without_charging_it_again(chat_app, fake_gemini):
    image = picture(colour="green")
    first = await (await post(chat_app, with_image("Remember this picture", data_url(image)))).get_json()
    follow = {"conversation_id": first["conversation_id"],
              "messages": [{"role": "user", "content": "What did I show you?"}]}
    second = await (await post(chat_app, follow)).get_json()
    assert second["credits_charged"] == 1  # the image was paid for in the turn that sent it
    assert fake_gemini.images == [("image/png", image), ("image/png", image)]  # history carries it


async def test_own_muse_images_by_url_or_id_and_another_users_is_a_404_that_leaks_nothing(chat_app,
                                                                                          fake_gemini):
    mine, theirs = picture(colour="purple"), picture(colour="orange")
    my_id = await gallery_image(chat_app, "alice", mine)
    their_id = await gallery_image(chat_app, "bob", theirs)
    by_url = await post(chat_app, with_image("Look", f"muse://images/{my_id}"))
    assert by_url.status_code == 200 and fake_gemini.images == [("image/png", mine)]
    by_id = {"messages": [{"role": "user", "content": [{"type": "text", "text": "And by id"},
                                                        {"type": "image", "image_id": my_id}]}]}
    data = await (await post(chat_app, by_id)).get_json()
    assert data["credits_charged"] == 2 and fake_gemini.images[-1] == ("image/png", mine)
    auth = await auth_headers(chat_app, "alice")
    convo = await (await chat_app.test_client().get(f"/api/v1/conversations/{data['conversation_id']}",
                                                    headers=auth)).get_json()
    assert convo["messages"][0]["images"][0]["image_id"] == my_id  # a reference, not a copy
    foreign = await post(chat_app, with_image("Steal", f"muse://images/{their_id}"))
    missing = await post(chat_app, with_image("Steal", "muse://images/img_doesnotexist"))
    assert foreign.status_code == missing.status_code == 404
    foreign_body, missing_body = await foreign.get_json(), await missing.get_json()
    assert foreign_body["errors"][0]["loc"] == ["body", "messages", 0, "content", 1]
    same = missing_body["detail"].replace("img_doesnotexist", "X")
    assert foreign_body["detail"].replace(their_id, "X") == same
    assert fake_gemini.count() == 2  # the refused requests reached no provider


async def test_bad_images_are_refused_naming_the_part_and_charge_nothing(chat_app_factory, fake_gemini):
    async with chat_app_factory(max_upload_mb=0.05, chat_max_images=2) as app:
        user = await user_of(app, "carol")
        cases = [
            (with_image("x", "data:image/png;base64,not base64!!"), 400, "messages.0.content.1"),
            (with_image("x", data_url(b"just some text, not a picture")), 415, "messages.0.content.1"),
            (with_image("x", data_url(picture("BMP"))), 415, "messages.0.content.1"),
            (with_image("x", data_url(b"\0" * 80_000)), 413, "messages.0.content.1"),
            (with_image("x", *[data_url(picture())] * 3), 400, "messages.0.content.3"),
            (with_image("x", "ftp://example.com/a.png"), 400, "messages.0.content.1"),
            ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}, 400,
             "messages.0.content.0"),
            ({"messages": [{"role": "assistant", "content": [
                {"type": "image_url", "image_url": {"url": data_url(picture())}}]},
                {"role": "user", "content": "hi"}]}, 400, "messages.0.content.0"),
        ]
        for payload, status, param in cases:
            response, error = await v1(app, payload, "carol")
            assert response.status_code == status, (param, error)
            assert error["error"]["param"] == param and "constrained" not in error["error"]["message"]
            assert error["error"]["message"].startswith(param + ": ")
            under_api_v1 = await post(app, payload, clerk_id="carol")  # the same part named under /api/v1
            problem = await under_api_v1.get_json()
            assert under_api_v1.status_code == (422 if status == 400 else status), problem
            where = [int(p) if p.isdigit() else p for p in param.split(".")]
            assert problem["errors"][0]["loc"] == ["body", *where]
        assert fake_gemini.count() == 0 and await ledger_kinds(app, user.id) == []


async def test_v1_chat_completions_sends_the_image_and_charges_for_it(chat_app, fake_gemini):
    image = picture("PNG", colour="navy")
    response, data = await v1(chat_app, with_image("What is it?", data_url(image)))
    assert response.status_code == 200, data
    assert response.headers["X-Muse-Credits-Charged"] == "2"
    assert fake_gemini.images == [("image/png", image)]
    part = {"type": "image_url", "image_url": {"url": data_url(image), "detail": "low"}}
    low = {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is it?"}, part]}]}
    response, data = await v1(chat_app, low)
    assert response.headers["X-Muse-Cached"] == "false"  # `detail` changes the answer: another entry
    inline = fake_gemini.calls[-1].body["contents"][0]["parts"][0]
    assert inline["mediaResolution"] == {"level": "MEDIA_RESOLUTION_LOW"}


async def test_an_http_image_url_is_fetched_by_the_pinned_fetcher(chat_app, fake_gemini):
    image = picture("PNG", colour="yellow")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(image)))
            self.end_headers()
            self.wfile.write(image)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:  # development allows loopback (as describe does); production refuses private addresses
        url = f"http://127.0.0.1:{server.server_address[1]}/picture.png"
        response, data = await v1(chat_app, with_image("Fetched?", url))
    finally:
        server.shutdown()
    assert response.status_code == 200, data
    assert fake_gemini.images == [("image/png", image)]


async def test_the_local_provider_says_how_many_images_it_saw(chat_app_factory):
    async with chat_app_factory(chat_providers=["local"]) as app:
        response = await post(app, with_image("Two pictures", data_url(picture()), data_url(picture("JPEG"),
                                                                                             "image/jpeg")))
        data = await response.get_json()
        assert response.status_code == 200, data
        assert data["provider"] == "local" and "I saw 2 images." in data["message"]["content"]


async def test_deleting_a_conversation_deletes_the_images_kept_with_it(chat_app, fake_gemini):
    image = picture(colour="white")
    data = await (await post(chat_app, with_image("Keep", data_url(image)))).get_json()
    container = chat_app.extensions["container"]
    assert any(p.read_bytes() == image for p in media_files(container))
    auth = await auth_headers(chat_app, "alice")
    url = f"/api/v1/conversations/{data['conversation_id']}"
    deleted = await chat_app.test_client().delete(url, headers=auth)
    assert deleted.status_code == 204
    assert not any(p.read_bytes() == image for p in media_files(container))


@pytest.mark.parametrize("allowed", [False])
async def test_private_addresses_are_refused_in_production(allowed, tmp_path: Path):
    from providers.local_storage import LocalStorage
    from providers.remote_fetch import fetch_remote_image
    from services.chat.content import ImageSource
    from services.chat.images import ChatImages
    from services.platform.errors import ValidationFailed

    async def fetch(url: str) -> bytes:
        return await fetch_remote_image(url, max_bytes=1 << 20, allow_private=allowed)

    images = ChatImages(storage=LocalStorage(tmp_path, base_url="http://x"), gallery=None, fetch=fetch)  # type: ignore[arg-type]
    where = ("messages", 0, "content", 1)
    with pytest.raises(ValidationFailed) as refused:
        await images.resolve([ImageSource(where, url="http://127.0.0.1:9/a.png")], user_id="u", openai=False)
    assert refused.value.extra["errors"][0]["loc"] == ["body", *where]
    assert "public address" in refused.value.detail


async def test_an_image_charge_is_refunded_whole_when_every_provider_fails(chat_app, fake_gemini,
                                                                         fake_openai):
    fake_gemini.mode = fake_openai.mode = "503"
    two = (data_url(picture()), data_url(picture("JPEG"), "image/jpeg"))
    response = await post(chat_app, with_image("Nobody answers", *two))
    assert response.status_code == 502
    user = await user_of(chat_app, "alice")
    ops, _ = await chat_app.extensions["container"].credits.service.ledger(user.id, limit=100)
    moves = sorted(op.delta for op in ops if op.kind in ("charge", "refund"))
    assert moves == [-3, 3]  # chat 1 + 2 images, taken once and given back once


async def test_a_stream_broken_midway_refunds_the_image_price_too(chat_app, fake_gemini):
    fake_gemini.reply = "one two three four five six"
    fake_gemini.mode, fake_gemini.cut_after = "drop", 2
    response = await post(chat_app, with_image("Break", data_url(picture()), stream=True))
    got = events(await response.get_data(as_text=True))
    assert got[-1][0] == "error"
    user = await user_of(chat_app, "alice")
    ops, _ = await chat_app.extensions["container"].credits.service.ledger(user.id, limit=100)
    assert sorted(op.delta for op in ops if op.kind in ("charge", "refund")) == [-2, 2]
