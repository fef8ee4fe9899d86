"""Failover rules of the image chain and the describe prompt, with hand-written fake providers."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.chat.vision import PRESETS, instruction_for
from services.media.image_jobs import failover
from services.media.ports.images import ImageRequest, ImageResult
from services.platform.errors import UpstreamError, UpstreamTimeout, ValidationFailed


class FakeImageProvider:
    supports_edit = True
    model = "fake-1"

    def __init__(self, name: str, behaviour: str = "ok") -> None:
        self.name, self.behaviour, self.calls = name, behaviour, 0

    async def generate(self, request: ImageRequest) -> ImageResult:
        self.calls += 1
        if self.behaviour == "hang":
            await asyncio.sleep(60)
        if self.behaviour == "fail":
            raise UpstreamError(f"{self.name}: broken")
        return ImageResult(self.name, self.model, [], request.seed)

    edit = generate


async def test_first_working_provider_in_order_answers():
    a, b, c = FakeImageProvider("a", "fail"), FakeImageProvider("b"), FakeImageProvider("c")
    result = await failover([a, b, c], ImageRequest(prompt="x"), timeout_s=5)
    assert result.provider == "b" and (a.calls, b.calls, c.calls) == (1, 1, 0)


async def test_a_hanging_provider_gets_only_its_share_of_the_budget():
    hang, ok = FakeImageProvider("hang", "hang"), FakeImageProvider("ok")
    started = time.monotonic()
    result = await failover([hang, ok], ImageRequest(prompt="x"), timeout_s=0.4)
    assert result.provider == "ok" and time.monotonic() - started < 0.35


async def test_all_hanging_is_a_timeout_and_mixed_failures_are_a_502_naming_each():
    with pytest.raises(UpstreamTimeout):
        await failover(
            [FakeImageProvider("h1", "hang"), FakeImageProvider("h2", "hang")],
            ImageRequest(prompt="x"),
            timeout_s=0.2,
        )
    with pytest.raises(UpstreamError) as info:
        await failover(
            [FakeImageProvider("f", "fail"), FakeImageProvider("h", "hang")],
            ImageRequest(prompt="x"),
            timeout_s=0.2,
        )
    assert not isinstance(info.value, UpstreamTimeout) and "f: broken" in info.value.detail


async def test_no_provider_is_a_502():
    with pytest.raises(UpstreamError):
        await failover([], ImageRequest(prompt="x"), timeout_s=1)


def test_fursona_preset_asks_for_species_colours_markings_clothing_personality():
    text = instruction_for("fursona", None)
    assert text == PRESETS["fursona"]
    for word in ("anthropomorphic", "species", "colours", "markings", "clothing", "personality"):
        assert word in text
    assert instruction_for("fursona", "Make it a fox.").endswith("Make it a fox.")
    assert instruction_for(None, "Only the colours.") == "Only the colours."
    with pytest.raises(ValidationFailed):
        instruction_for("unknown", None)
