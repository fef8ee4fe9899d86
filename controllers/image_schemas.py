"""Request and response models of the image endpoints (they feed /openapi.json)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

AspectRatio = Literal["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"]


class CreateImageIn(BaseModel):
    prompt: str = Field(min_length=1, max_length=2000)
    negative_prompt: str | None = Field(default=None, max_length=2000)
    aspect_ratio: AspectRatio = "1:1"
    num_outputs: int = Field(default=1, ge=1, le=4)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    model: str = "default"
    output_format: Literal["webp", "png", "jpeg"] = "webp"
    wait: bool = False


class EditFields(BaseModel):
    prompt: str = Field(min_length=1, max_length=2000)
    source_image_id: str | None = None
    num_outputs: int = Field(default=1, ge=1, le=4)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    model: str = "default"
    output_format: Literal["webp", "png", "jpeg"] = "png"
    wait: bool = False


class DescribeFields(BaseModel):
    source_image_id: str | None = None
    image_url: str | None = Field(default=None, max_length=2048)
    preset: Literal["fursona", "describe"] | None = None
    instruction: str | None = Field(default=None, max_length=2000)


class ImageOutput(BaseModel):
    url: str
    width: int | None
    height: int | None
    format: str | None


class ImageOut(BaseModel):
    id: str
    status: str
    kind: str
    prompt: str
    negative_prompt: str | None
    aspect_ratio: str
    width: int
    height: int
    num_outputs: int
    seed: int | None
    model: str
    provider: str | None
    outputs: list[ImageOutput]
    error: dict[str, Any] | None
    saved: bool
    expires_at: str | None
    credits_charged: int
    created_at: str
    updated_at: str
    request_id: str | None


class ImagePage(BaseModel):
    items: list[ImageOut]
    next_cursor: str | None


class ImageListQuery(BaseModel):
    status: Literal["queued", "in_progress", "completed", "failed", "expired"] | None = None
    saved: bool | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


class DescribeOut(BaseModel):
    description: str
    provider: str
    model: str
    credits_charged: int


class EditForm(EditFields):
    """Multipart form of `POST /api/v1/images/edits` (documentation of the upload fields)."""

    image: bytes | None = Field(default=None, description="PNG, JPEG or WebP file (or `source_image_id`)")
    mask: bytes | None = Field(default=None, description="optional PNG mask")


class DescribeForm(DescribeFields):
    """Multipart form of `POST /api/v1/images/describe` (documentation of the upload fields)."""

    image: bytes | None = Field(default=None, description="PNG, JPEG or WebP file")
