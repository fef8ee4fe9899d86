"""Real clients sending images to a running Muse over HTTP (contract §18), with Gemini first and with
OpenAI first: the openai SDK (an image_url data-URL part, JSON and streamed), the `llm` CLI
(`llm -a image.png`), and the SDK's streamed image generation refused without a charge."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from app.embedded import free_port
from app.wiring.container import Container
from app.wiring.overrides import Overrides
from tests.conftest import make_settings
from tests.fixtures.images import picture
from tests.fixtures.openai_server import ThreadedMuse


@pytest.fixture(scope="module", params=["gemini", "openai"])
def muse_vision(request, servers: dict[str, str], tmp_path_factory: pytest.TempPathFactory,
                _gemini_server, _openai_server) -> Iterator[tuple[ThreadedMuse, str]]:
    """A running Muse whose chat chain starts with the parameter's provider; (server, first provider)."""
    first = request.param
    order = [first, "openai" if first == "gemini" else "gemini"]
    port = free_port()
    settings = make_settings(
        servers, tmp_path_factory.mktemp(f"vision_{first}"), public_base_url=f"http://127.0.0.1:{port}",
        gemini_api_key=_gemini_server.api_key, gemini_base_url=_gemini_server.url,
        openai_api_key=_openai_server.api_key, openai_base_url=_openai_server.url + "/v1",
        chat_providers=order, ai_timeout_s=5.0, breaker_failure_threshold=1000, signup_credits=0)
    server = ThreadedMuse(Container(settings, Overrides()), port).start()
    yield server, first
    server.call(lambda c: c.platform.database.client.drop_database(c.settings.mongodb_db))
    server.stop()


@pytest.fixture
def upstreams(_gemini_server, _openai_server) -> Iterator[dict[str, Any]]:
    fakes = {"gemini": _gemini_server, "openai": _openai_server}
    for name, fake in fakes.items():
        fake.reset()
        fake.reply = f"A picture, says {name}."
    yield fakes
    for fake in fakes.values():
        fake.reset()


def sdk_for(muse: ThreadedMuse, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=muse.base_url + "/v1", max_retries=0)


def spendable(muse: ThreadedMuse, user_id: str) -> int:
    return muse.call(lambda c: c.credits.service.summary(user_id, plan="free"))["spendable"]


def image_message(image: bytes, text: str) -> list[dict[str, Any]]:
    url = "data:image/png;base64," + base64.b64encode(image).decode()
    return [{"role": "user", "content": [{"type": "text", "text": text},
                                         {"type": "image_url", "image_url": {"url": url}}]}]


def test_the_openai_sdk_sends_an_image_part_that_reaches_the_first_provider(muse_vision, upstreams):
    muse, first = muse_vision
    key, user_id = muse.user_key(f"user_{uuid.uuid4().hex[:10]}")
    image = picture("PNG", colour="crimson")
    before = spendable(muse, user_id)
    raw = sdk_for(muse, key).chat.completions.with_raw_response.create(
        model="default", messages=image_message(image, f"What is this? {uuid.uuid4().hex}"))
    completion = raw.parse()
    assert completion.choices[0].message.content == f"A picture, says {first}."
    assert raw.headers["X-Muse-Provider"] == first and raw.headers["X-Muse-Credits-Charged"] == "2"
    assert upstreams[first].images == [("image/png", image)]  # the very bytes reached the provider
    other = "openai" if first == "gemini" else "gemini"
    assert upstreams[other].count() == 0
    assert before - spendable(muse, user_id) == 2


def test_a_streamed_sdk_request_with_an_image_fails_over_before_the_first_delta(muse_vision, upstreams):
    muse, first = muse_vision
    other = "openai" if first == "gemini" else "gemini"
    upstreams[first].mode = "503"
    key, _user_id = muse.user_key(f"user_{uuid.uuid4().hex[:10]}")
    image = picture("PNG", colour="olive")
    stream = sdk_for(muse, key).chat.completions.create(
        model="default", messages=image_message(image, f"Stream {uuid.uuid4().hex}"), stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == f"A picture, says {other}."
    assert upstreams[first].images == upstreams[other].images == [("image/png", image)]


def test_a_bad_image_part_is_a_bad_request_error_naming_it(muse_vision, upstreams):
    muse, _first = muse_vision
    key, user_id = muse.user_key(f"user_{uuid.uuid4().hex[:10]}")
    before = spendable(muse, user_id)
    not_an_image = "data:image/png;base64," + base64.b64encode(b"no").decode()
    messages = [{"role": "user", "content": [{"type": "text", "text": "Look"},
                                             {"type": "image_url", "image_url": {"url": not_an_image}}]}]
    with pytest.raises(openai.APIStatusError) as refused:
        sdk_for(muse, key).chat.completions.create(model="default", messages=messages)
    assert refused.value.status_code == 415
    assert refused.value.body["param"] == "messages.0.content.1"  # type: ignore[index]
    assert spendable(muse, user_id) == before
    assert upstreams["gemini"].count() == upstreams["openai"].count() == 0


def test_streamed_image_generation_is_refused_by_name_and_charges_nothing(muse_vision):
    muse, _first = muse_vision
    key, user_id = muse.user_key(f"user_{uuid.uuid4().hex[:10]}")
    sdk = sdk_for(muse, key)
    before = spendable(muse, user_id)
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.generate(prompt="a lighthouse at dusk", model="default", stream=True)
    assert refused.value.param == "stream" and "stream" in refused.value.message
    with pytest.raises(openai.BadRequestError) as partial:
        sdk.images.generate(prompt="a lighthouse at dusk", model="default", partial_images=2)
    assert partial.value.param == "partial_images"
    assert spendable(muse, user_id) == before
    images = muse.call(lambda c: c.media.images.list(user_id, status=None, saved=None, limit=10, cursor=None))
    assert images[0] == []  # no job was submitted


def llm_cli(muse: ThreadedMuse, home: Path, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`llm` as a user runs it, configured by extra-openai-models.yaml in its own LLM_USER_PATH."""
    (home / "extra-openai-models.yaml").write_text(
        f"- model_id: muse\n  model_name: default\n  api_base: {muse.base_url}/v1\n"
        "  vision: true\n  api_key_name: muse\n")
    env = {**os.environ, "LLM_USER_PATH": str(home), "NO_PROXY": "127.0.0.1,localhost"}
    env.pop("OPENAI_API_KEY", None)
    llm = Path(sys.executable).with_name("llm")
    return subprocess.run([str(llm), "-m", "muse", "--key", key, *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("streamed", [True, False])
def test_the_llm_cli_sends_an_attached_image(muse_vision, upstreams, tmp_path, streamed):
    muse, first = muse_vision
    key, user_id = muse.user_key(f"user_{uuid.uuid4().hex[:10]}")
    image = picture("PNG", colour="gold")
    path = tmp_path / "image.png"
    path.write_bytes(image)
    before = spendable(muse, user_id)
    question = f"What is in this image? {uuid.uuid4().hex}"
    args = ["-a", str(path), question, *([] if streamed else ["--no-stream"])]
    done = llm_cli(muse, tmp_path, key, *args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"A picture, says {first}."
    assert upstreams[first].images == [("image/png", image)]
    assert before - spendable(muse, user_id) == 2
