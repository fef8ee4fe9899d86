"""Describe a picture through the chat providers' vision support, with failover (and the fursona preset).

The calls go to the chat providers, so they share the chat chain's circuit
breaker under the chat names: an open circuit skips the provider here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from services.errors import FeatureDisabled, UpstreamError, UpstreamTimeout, ValidationFailed
from services.ids import new_id
from services.ports.breaker import CircuitBreaker
from services.uploads import CheckedUpload

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
    """Charge `image_describe`, ask each chat provider in turn, refund when none answers."""

    def __init__(
        self,
        *,
        providers: Callable[[], Awaitable[list[Any]]],
        credits: Any,
        catalog: Any,
        live_settings: Any | None = None,
        breaker: CircuitBreaker | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._providers, self._credits, self._catalog = providers, credits, catalog
        self._live, self._breaker = live_settings, breaker
        self.timeout_s = timeout_s

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
        receipt = await self._credits.charge(
            user_id, price, plan=plan, kind="image_describe", ref=new_id("dsc"), request_id=request_id
        )
        try:
            answer = await self._ask(image, prompt, request_id=request_id)
        except BaseException:
            await self._credits.refund(receipt, reason="describe_failed", request_id=request_id)
            raise
        return Description(answer.content, answer.provider, answer.model, price)

    async def _ask(self, image: CheckedUpload, prompt: str, *, request_id: str | None) -> Any:
        from services.ports.chat import ProviderError, ProviderTimeout

        failures: list[Exception] = []
        for provider in await self._providers():
            if self._breaker is not None and not await self._breaker.allow(provider.name):
                log.info("vision_provider_skipped", provider=provider.name, reason="circuit_open")
                continue
            try:
                answer = await provider.describe_image(
                    image.data,
                    mime=image.content_type,
                    instruction=prompt,
                    timeout=self.timeout_s,
                    request_id=request_id,
                )
            except ProviderError as exc:
                if self._breaker is not None:
                    await self._breaker.record_failure(provider.name)
                log.warning("vision_provider_failed", provider=provider.name, error=str(exc))
                failures.append(exc)
                continue
            if self._breaker is not None:
                await self._breaker.record_success(provider.name)
            return answer
        if failures and all(isinstance(f, ProviderTimeout) for f in failures):
            raise UpstreamTimeout()
        raise UpstreamError("No provider could describe this image.")
