"""Image jobs: what the media job core (services/media/jobs.py: claim, complete, fail and refund
once, release, sweep) runs for an image: `ImageWork` asks the image providers with failover and
stores each output.

The chain shares the chat chain's circuit breaker (repositories/breaker.py) under
namespaced names (`images:replicate`, `images:openai`: "openai" is a chat
provider too): a provider whose circuit is open is skipped without a call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog

from services.media.image_models import ImageRecord, StoredFile
from services.media.jobs import MediaJobRunner, media_failover
from services.media.ports.images import CONTENT_TYPES, ImageProvider, ImageRequest, ImageResult, breaker_name
from services.media.ports.storage import StorageProvider, StoredObject
from services.platform.errors import UpstreamError
from services.platform.failover import Failover
from services.platform.ports.breaker import CircuitBreaker

log = structlog.stdlib.get_logger("muse.image_jobs")

class ImageWork:
    """Image jobs for the job core (services/media/jobs.py): generate or edit with failover, store each
    output."""

    label = "image"

    def __init__(self, *, storage: StorageProvider, providers: Callable[[], Awaitable[list[ImageProvider]]],
                 breaker: CircuitBreaker | None = None, timeout_s: float = 120.0) -> None:
        self._storage = storage
        self.failover = image_failover(providers, timeout_s=timeout_s, breaker=breaker)

    async def produce(self, record: ImageRecord, dispatching: Callable[[], Awaitable[None]]) -> ImageResult:
        source = await self._read(record.source)
        mask = await self._read(record.mask)
        request = ImageRequest(
            prompt=record.prompt,
            aspect_ratio=record.aspect_ratio,
            num_outputs=record.num_outputs,
            negative_prompt=record.negative_prompt,
            seed=record.seed,
            output_format=record.output_format,  # type: ignore[arg-type]
            kind="edit" if record.kind == "edit" else "generate",
            source=source,
            mask=mask,
        )

        def usable(p: ImageProvider) -> bool:
            return (record.providers is None or p.name in record.providers) and (
                record.kind == "generate" or p.supports_edit)

        return await produce(self.failover, request, only=usable, dispatching=dispatching)

    async def store(self, record: ImageRecord, result: ImageResult) -> list[StoredFile]:
        stored: list[StoredFile] = []
        try:
            for i, file in enumerate(result.files):
                obj = await self._storage.put(file.data, folder=record.user_id, name=f"{record.id}_{i}",
                                              content_type=CONTENT_TYPES.get(file.format, "image/png"))
                stored.append(StoredFile(key=obj.key, url=obj.url, width=file.width, height=file.height,
                                         format=file.format))
        except BaseException:
            await self.delete_files(stored)
            raise
        return stored

    async def _read(self, file: StoredFile | None) -> bytes | None:
        return await self._storage.get(StoredObject(file.key, file.url)) if file else None

    def completion(self, result: ImageResult) -> dict[str, Any]:
        return {}

    async def delete_files(self, files: list[StoredFile]) -> None:
        for file in files:
            try:
                await self._storage.delete(file.key)
            except Exception:
                log.warning("image_file_delete_failed", key=file.key)


ImageJobRunner = MediaJobRunner[ImageResult]


def image_failover(providers: Callable[[], Awaitable[Sequence[ImageProvider]]], *, timeout_s: float,
                   breaker: CircuitBreaker | None = None) -> Failover[ImageProvider]:
    """The shared failover for image providers (circuits under `images:<name>`)."""
    return media_failover("image", providers, timeout_s=timeout_s, breaker=breaker, breaker_name=breaker_name)


async def produce(chain: Failover[ImageProvider], request: ImageRequest, *,
                  only: Callable[[ImageProvider], bool] | None = None,
                  dispatching: Callable[[], Awaitable[None]] | None = None) -> ImageResult:
    """The first provider's result, in order, within the chain's budget (each its share of what is left);
    `dispatching` is awaited before each provider call."""
    if not [p for p in await chain.chain() if only is None or only(p)]:
        raise UpstreamError("No image provider is available for this request.")

    async def call(provider: ImageProvider, seconds: float) -> ImageResult:
        if dispatching is not None:
            await dispatching()
        return await (provider.edit if request.kind == "edit" else provider.generate)(request)

    return (await chain.run(call, only=only))[1]


async def failover(providers: Sequence[ImageProvider], request: ImageRequest, *, timeout_s: float,
                   breaker: CircuitBreaker | None = None) -> ImageResult:
    """`produce` over a fixed list of providers."""
    async def fixed() -> Sequence[ImageProvider]:
        return providers

    return await produce(image_failover(fixed, timeout_s=timeout_s, breaker=breaker), request)
