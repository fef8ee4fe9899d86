"""The media job core's port: what one kind of media job supplies (`MediaWork`) and produces."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from services.credits.ports import ProviderUsage
from services.media.image_models import (
    ImageRecord,
    StoredFile,
)


class Produced(Protocol):
    """What a provider chain produced for a job (an `ImageResult`, a `VideoResult`)."""

    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def seed(self) -> int | None: ...


R = TypeVar("R", bound=Produced)


class MediaWork(Protocol[R]):
    """What one kind of media job supplies to the core: its provider call and its storage step."""

    label: str  # in refund reasons, errors and logs ("image", "video")

    async def produce(self, record: ImageRecord, dispatching: Callable[[], Awaitable[None]]) -> R:
        """The result of the first provider of the chain that can do `record` (failover inside);
        `dispatching` is awaited before each provider call (the job's liveness notes the first)."""
        ...

    async def store(self, record: ImageRecord, result: R) -> list[StoredFile]:
        """Store the result's files (none left behind when it fails)."""
        ...

    def completion(self, result: R) -> dict[str, Any]:
        """Record fields a completed job sets beyond its outputs (a video's `fps`)."""
        ...

    def metered(self, record: ImageRecord, result: R) -> tuple[str, ProviderUsage]:
        """The job's ledger kind and what its provider call used (images, video seconds): its cost."""
        ...

    async def delete_files(self, files: list[StoredFile]) -> None:
        """Delete stored files (a job that lost its claim)."""
        ...
