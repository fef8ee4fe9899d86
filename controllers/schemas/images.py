"""Request and response models of the image endpoints (they feed /openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from controllers.schemas.base import CURSOR_MAX, RequestBody

AspectRatio = Literal["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"]


# the configured image models are listed in /openapi.json (app/openapi.py resolves the marker)
IMAGE_MODELS: dict[str, Any] = {"x-muse-choices": "image_models"}


class CreateImageIn(RequestBody):
    prompt: str = Field(min_length=1, max_length=2000)
    negative_prompt: str | None = Field(default=None, max_length=2000)
    aspect_ratio: AspectRatio = "1:1"
    num_outputs: int = Field(default=1, ge=1, le=4)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    model: str = Field(default="default", json_schema_extra=IMAGE_MODELS)
    output_format: Literal["webp", "png", "jpeg"] = "webp"
    wait: bool = False


class EditFields(RequestBody):
    prompt: str = Field(min_length=1, max_length=2000)
    source_image_id: str | None = None
    num_outputs: int = Field(default=1, ge=1, le=4)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    model: str = Field(default="default", json_schema_extra=IMAGE_MODELS)
    output_format: Literal["webp", "png", "jpeg"] = "png"
    wait: bool = False


class DescribeFields(RequestBody):
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
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX)


class DescribeOut(BaseModel):
    description: str
    provider: str
    model: str
    credits_charged: int


class EditForm(RequestBody):
    """Multipart form of `POST /api/v1/images/edits` (the documented upload; `source_image_id` may
    replace the file, see the JSON form)."""

    image: bytes = Field(description="PNG, JPEG or WebP file")
    mask: bytes | SkipJsonSchema[None] = Field(default=None, description="optional PNG mask")
    prompt: str = Field(min_length=1, max_length=2000)
    num_outputs: int = Field(default=1, ge=1, le=4)
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | SkipJsonSchema[None] = None
    model: str = Field(default="default", json_schema_extra=IMAGE_MODELS)
    output_format: Literal["webp", "png", "jpeg"] = "png"
    wait: bool = False


class EditJson(RequestBody):
    """JSON body of `POST /api/v1/images/edits`: edit one of the caller's images."""

    source_image_id: str = Field(min_length=1)
    prompt: str = Field(min_length=1, max_length=2000)
    num_outputs: int = Field(default=1, ge=1, le=4)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    model: str = Field(default="default", json_schema_extra=IMAGE_MODELS)
    output_format: Literal["webp", "png", "jpeg"] = "png"
    wait: bool = False


class _DescribeOptions(RequestBody):
    preset: Literal["fursona", "describe"] | None = None
    instruction: str | None = Field(default=None, max_length=2000)


class DescribeForm(RequestBody):
    """Multipart form of `POST /api/v1/images/describe`: an uploaded picture (form fields are never null)."""

    image: bytes = Field(description="PNG, JPEG or WebP file")
    preset: Literal["fursona", "describe"] | SkipJsonSchema[None] = None
    instruction: Annotated[str, Field(max_length=2000)] | SkipJsonSchema[None] = None


class DescribeBySource(_DescribeOptions):
    source_image_id: str = Field(min_length=1)


class DescribeByUrl(_DescribeOptions):
    image_url: str = Field(min_length=1, max_length=2048)


class DescribeJson(RootModel[DescribeBySource | DescribeByUrl]):
    """JSON body of `POST /api/v1/images/describe`: one of the caller's images, or an image URL."""
