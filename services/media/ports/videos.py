"""The video provider port: what every video generator (Replicate, local) offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

# Pixel sizes per aspect ratio (480p-class, even sides as H.264 needs).
VIDEO_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (480, 480),
    "16:9": (848, 480),
    "9:16": (480, 848),
    "4:3": (640, 480),
    "3:4": (480, 640),
    "3:2": (720, 480),
    "2:3": (480, 720),
}
MIN_DURATION_S, MAX_DURATION_S, DEFAULT_DURATION_S = 1, 10, 5
VideoKind = Literal["text_to_video", "image_to_video"]


VIDEO_BREAKER_PREFIX = "videos:"


def video_breaker_name(provider: str) -> str:
    """The circuit breaker name of a video provider (`replicate` makes images too)."""
    return VIDEO_BREAKER_PREFIX + provider


def video_size(aspect_ratio: str) -> tuple[int, int]:
    """(width, height) in pixels of a video of `aspect_ratio` (a contract aspect ratio)."""
    return VIDEO_SIZES[aspect_ratio]


@dataclass(frozen=True)
class VideoRequest:
    """One text-to-video or image-to-video request as providers see it."""

    prompt: str
    aspect_ratio: str = "16:9"
    duration_s: int = DEFAULT_DURATION_S
    kind: VideoKind = "text_to_video"
    source: bytes | None = None  # image_to_video: the first frame's picture
    seed: int | None = None

    @property
    def size(self) -> tuple[int, int]:
        return video_size(self.aspect_ratio)


@dataclass(frozen=True)
class VideoFile:
    """One produced MP4 with what was read from it, and its poster (a still, WebP)."""

    data: bytes
    width: int
    height: int
    duration_s: float
    fps: int
    frames: int
    poster: bytes
    format: str = "mp4"


@dataclass(frozen=True)
class VideoResult:
    """What a provider produced."""

    provider: str
    model: str
    files: list[VideoFile] = field(default_factory=list)
    seed: int | None = None


class VideoProvider(Protocol):
    """A video generator. Raises `services.platform.errors.UpstreamError` subclasses on failure."""

    name: str
    model: str
    supports_image: bool  # accepts a source image (image_to_video)

    async def generate(self, request: VideoRequest) -> VideoResult: ...
