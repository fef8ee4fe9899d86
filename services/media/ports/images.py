"""The image provider port: what every image generator (Replicate, OpenAI, local) offers."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Literal, Protocol

# Pixel sizes per aspect ratio (the sizes Flux Schnell produces).
ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "4:3": (1152, 896),
    "3:4": (896, 1152),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
}

OutputFormat = Literal["webp", "png", "jpeg"]
CONTENT_TYPES = {"webp": "image/webp", "png": "image/png", "jpeg": "image/jpeg"}


# The chat chain's circuit breaker is shared under namespaced names (`images:openai`: "openai" is a
# chat provider too); the admin statistics read them.
BREAKER_PREFIX = "images:"


def breaker_name(provider: str) -> str:
    """The circuit breaker name of an image provider (distinct from a chat provider of the same name)."""
    return BREAKER_PREFIX + provider


def dimensions(aspect_ratio: str) -> tuple[int, int]:
    """(width, height) in pixels for an aspect ratio of the contract."""
    return ASPECT_RATIOS[aspect_ratio]


@dataclass(frozen=True)
class ImageRequest:
    """One generation or edit request as providers see it."""

    prompt: str
    aspect_ratio: str = "1:1"
    num_outputs: int = 1
    negative_prompt: str | None = None
    seed: int | None = None
    output_format: OutputFormat = "webp"
    kind: Literal["generate", "edit"] = "generate"
    source: bytes | None = None
    mask: bytes | None = None

    @property
    def size(self) -> tuple[int, int]:
        return dimensions(self.aspect_ratio)


@dataclass(frozen=True)
class ImageFile:
    """Bytes of one produced image with what Pillow reads from them."""

    data: bytes
    format: str
    width: int
    height: int

    @classmethod
    def from_bytes(cls, data: bytes) -> ImageFile:
        """Inspect `data` (raises ValueError when it is not an image)."""
        from PIL import Image  # here: most processes never decode an image (start-up, issue 12)

        try:
            with Image.open(io.BytesIO(data)) as img:
                fmt = (img.format or "").lower()
                width, height = img.size
        except Exception as exc:
            raise ValueError("not an image") from exc
        return cls(data=data, format="jpeg" if fmt == "jpg" else fmt, width=width, height=height)


@dataclass(frozen=True)
class ImageResult:
    """What a provider produced."""

    provider: str
    model: str
    files: list[ImageFile] = field(default_factory=list)
    seed: int | None = None


class ImageProvider(Protocol):
    """An image generator. Raises `services.platform.errors.UpstreamError` subclasses on failure."""

    name: str
    model: str
    supports_edit: bool

    async def generate(self, request: ImageRequest) -> ImageResult: ...

    async def edit(self, request: ImageRequest) -> ImageResult: ...


def nearest_ratio(width: int, height: int) -> str:
    """The contract aspect ratio closest to width:height."""
    return min(ASPECT_RATIOS, key=lambda r: abs(ASPECT_RATIOS[r][0] / ASPECT_RATIOS[r][1] - width / height))
