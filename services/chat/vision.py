"""Describe a picture through the chat providers' vision support, with failover (and the fursona preset).

The calls go to the chat providers, so they share the chat chain's circuit
breaker under the chat names: an open circuit skips the provider here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from services.chat.ports import ChatCompletion, ChatProvider, ProviderError, ProviderTimeout
from services.credits.ports import Charge, Credits, charged
from services.platform.catalog import Catalog
from services.platform.errors import (
    AppError,
    FeatureDisabled,
    UpstreamError,
    UpstreamTimeout,
    ValidationFailed,
)
from services.platform.failover import Failover, Failure
from services.platform.ids import new_id
from services.platform.live_settings import LiveSettingsService
from services.platform.ports.breaker import CircuitBreaker
from services.platform.uploads import CheckedUpload

log = structlog.stdlib.get_logger("muse.vision")

PRESETS = {
    "fursona": (
        "Look at the person or pet in this photo and describe them as an anthropomorphic animal "
        "character (a fursona). Give: the species that suits them best; fur, feather or scale colours; "
        "distinctive markings and patterns; clothing and accessories (based on what they wear or their "
        "style); and personality traits suggested by their expression and pose. Write one vivid "
        "paragraph followed by a short bullet list with species, colours, markings, clothing and "
        "personality."
    ),
    "describe": "Describe this image in detail: subjects, setting, colours, composition and mood.",
}


@dataclass(frozen=True)
class Description:
    description: str
    provider: str
    model: str
    credits_charged: int


def instruction_for(preset: str | None, instruction: str | None) -> str:
    """The prompt for a preset, a custom instruction, or both (custom text refines the preset)."""
    if preset is not None and preset not in PRESETS:
        raise ValidationFailed(
            errors=[{"loc": ["preset"], "msg": f"unknown preset; use one of {sorted(PRESETS)}"}]
        )
    parts = [PRESETS[preset]] if preset else ([] if instruction else [PRESETS["describe"]])
    if instruction:
        parts.append(instruction.strip())
    return "\n\n".join(parts)


class VisionService:
    """Charge `image_describe`, ask the chat providers in turn (shared failover), refund when none answers."""

    def __init__(
        self,
        *,
        providers: Callable[[], Awaitable[list[ChatProvider]]],
        credits: Credits,
        catalog: Catalog,
        live_settings: LiveSettingsService | None = None,
        breaker: CircuitBreaker | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._credits, self._catalog, self._live = credits, catalog, live_settings
        self.timeout_s = timeout_s
        self.failover: Failover[ChatProvider] = Failover(
            label="vision", providers=providers, breaker=breaker, failure_types=(ProviderError,),
            is_timeout=lambda exc: isinstance(exc, ProviderTimeout), per_call_s=timeout_s,
            on_exhausted=_describe_error)

    async def describe(
        self,
        image: CheckedUpload,
        *,
        user_id: str,
        plan: str,
        preset: str | None,
        instruction: str | None,
        request_id: str | None,
    ) -> Description:
        """The description of `image`; 502/504 (and a refund) when every provider fails."""
        if self._live is not None and not (await self._live.current()).images_enabled:
            raise FeatureDisabled("Image features are disabled for now.")
        prompt = instruction_for(preset, instruction)
        price = int(self._catalog.price("image_describe", 1))
        charge = Charge(user_id, price, plan=plan, kind="image_describe", ref=new_id("dsc"))
        async with charged(self._credits, charge, refund_reason="describe_failed", request_id=request_id):
            answer = await self._ask(image, prompt, request_id=request_id)
        return Description(answer.content, answer.provider, answer.model, price)

    async def _ask(self, image: CheckedUpload, prompt: str, *, request_id: str | None) -> ChatCompletion:
        async def describe(provider: ChatProvider, seconds: float) -> ChatCompletion:
            return await provider.describe_image(image.data, mime=image.content_type, instruction=prompt,
                                                 timeout=seconds, request_id=request_id)

        return (await self.failover.run(describe))[1]


def _describe_error(failures: Sequence[Failure]) -> AppError:
    if failures and all(f.timed_out for f in failures):
        return UpstreamTimeout()
    return UpstreamError("No provider could describe this image.")
