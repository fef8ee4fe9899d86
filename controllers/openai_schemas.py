"""Request and response models of the OpenAI-compatible API (contract §12); they feed /openapi.json.

Requests accept OpenAI's shapes and ignore the fields Muse does not use
(`top_p`, `tools`, `logit_bias`…), as OpenAI-compatible servers commonly do.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TextPart(BaseModel):
    type: str
    text: str | None = None


class ChatMessageIn(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None
    name: str | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=200)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(default=None, max_length=256)


class ChatMessageOut(BaseModel):
    role: Literal["assistant"]
    content: str
    refusal: str | None = None


class ChoiceOut(BaseModel):
    index: int
    message: ChatMessageOut
    logprobs: Any | None = None
    finish_reason: str


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionOut(BaseModel):
    """`chat.completion`; with `stream: true` the answer is SSE `chat.completion.chunk` lines and `[DONE]`."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChoiceOut]
    usage: UsageOut
    system_fingerprint: str | None = None


class ModelOut(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelOut]


class ImageGenerationIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(min_length=1, max_length=2000)
    model: str | None = Field(default=None, max_length=200)
    n: int | None = Field(default=1, ge=1, le=4)
    size: str | None = Field(default=None, max_length=32)
    response_format: Literal["url", "b64_json"] | None = "url"
    output_format: Literal["png", "jpeg", "webp"] | None = None
    user: str | None = Field(default=None, max_length=256)


class ImageEditForm(BaseModel):
    """Multipart fields of `POST /v1/images/edits` (`image` and optional `mask` are files)."""

    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(min_length=1, max_length=2000)
    model: str | None = Field(default=None, max_length=200)
    n: int | None = Field(default=1, ge=1, le=4)
    size: str | None = Field(default=None, max_length=32)
    response_format: Literal["url", "b64_json"] | None = "url"
    output_format: Literal["png", "jpeg", "webp"] | None = None
    user: str | None = Field(default=None, max_length=256)


class ImageDatum(BaseModel):
    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None


class ImagesOut(BaseModel):
    created: int
    data: list[ImageDatum]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorOut(BaseModel):
    """OpenAI's error envelope, used by every answer under /v1."""

    error: ErrorDetail
    request_id: str | None
