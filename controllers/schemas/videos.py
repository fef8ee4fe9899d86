"""Request and response models of the video endpoints (contract §15; they feed /openapi.json)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from controllers.schemas.base import RequestBody
from controllers.schemas.images import AspectRatio, ImageListQuery

# the configured video models are listed in /openapi.json (app/openapi.py resolves the marker)
VIDEO_MODELS: dict[str, Any] = {"x-muse-choices": "video_models"}


class CreateVideoIn(RequestBody):
    prompt: str = Field(min_length=1, max_length=2000)
    source_image_id: str | None = Field(default=None, min_length=1, max_length=64,
                                        description="one of the caller's completed images: image-to-video")
    duration_s: int = Field(default=5, ge=1, le=10)
    aspect_ratio: AspectRatio = "16:9"
    model: str = Field(default="default", json_schema_extra=VIDEO_MODELS)
    wait: bool = False


class VideoOutput(BaseModel):
    url: str
    width: int | None
    height: int | None
    duration_s: float | None
    format: Literal["mp4"]
    poster_url: str | None


class VideoOut(BaseModel):
    id: str
    status: str
    kind: Literal["text_to_video", "image_to_video"]
    prompt: str
    source_image_id: str | None
    aspect_ratio: str
    width: int
    height: int
    duration_s: int
    fps: int | None
    model: str
    provider: str | None
    outputs: list[VideoOutput]
    error: dict[str, Any] | None
    saved: bool
    expires_at: str | None
    credits_charged: int
    created_at: str
    updated_at: str
    request_id: str | None


class VideoPage(BaseModel):
    items: list[VideoOut]
    next_cursor: str | None


class VideoListQuery(ImageListQuery):
    """The gallery filters of images, for videos."""
