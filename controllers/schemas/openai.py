"""Request and response models of the OpenAI-compatible API (contract §12); they feed /openapi.json.

Requests take OpenAI's shapes; a field Muse does not honour is refused by name (400 whose
`param` names it, controllers/schemas/base.py), never accepted and dropped.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import JsonDict, SkipJsonSchema

from controllers.schemas.base import RequestBody


class TextPart(RequestBody):
    type: Literal["text"]  # text only: Muse's chat takes no images or audio here
    text: str


# What a prompt turn must carry: some text (whitespace alone is not a message).
SomeText = Annotated[str, Field(pattern=r"\S")]
PromptPart = Annotated[TextPart, Field(json_schema_extra={"properties": {"text": {"pattern": r"\S"}}})]


class PromptMessageIn(RequestBody):
    """A system, developer or user turn: its content must say something."""

    role: Literal["system", "developer", "user"]
    content: SomeText | Annotated[list[PromptPart], Field(min_length=1)]
    name: str | None = None


class AssistantMessageIn(RequestBody):
    """An earlier answer (an empty one is dropped). No tool calling: `tool`/`function` turns are 422."""

    role: Literal["assistant"]
    content: str | list[TextPart] | None = None
    name: str | None = None


ChatMessageIn = Annotated[PromptMessageIn | AssistantMessageIn, Field(discriminator="role")]


class StreamOptions(RequestBody):
    include_usage: bool = False


# `size` as documented (`WIDTHxHEIGHT` or `auto`); anything else is a 400 naming `size`.
SIZE_SCHEMA: JsonDict = {"pattern": r"^(auto|[1-9][0-9]{0,4}x[1-9][0-9]{0,4})$"}


class ChatCompletionIn(RequestBody):
    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=200, json_schema_extra={
        "contains": {"properties": {"role": {"enum": ["user", "assistant"]}}}})  # not system turns only
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int | None = Field(default=None, json_schema_extra={"const": 1})  # documented as 1; others 400
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


class ImageGenerationIn(RequestBody):
    prompt: str = Field(min_length=1, max_length=2000)
    model: str | None = Field(default=None, max_length=200)
    n: int | None = Field(default=1, ge=1, le=4)
    size: str | None = Field(default=None, max_length=32, json_schema_extra=SIZE_SCHEMA)
    response_format: Literal["url", "b64_json"] | None = "url"
    output_format: Literal["png", "jpeg", "webp"] | None = None
    user: str | None = Field(default=None, max_length=256)


class ImageEditForm(RequestBody):
    """Multipart fields of `POST /v1/images/edits` (`image` and optional `mask` are files).

    A form has no null: optional fields are documented without it (an empty field is left out)."""

    prompt: str = Field(min_length=1, max_length=2000)
    model: str | SkipJsonSchema[None] = Field(default=None, max_length=200)
    n: Annotated[int, Field(ge=1, le=4)] | SkipJsonSchema[None] = 1
    size: str | SkipJsonSchema[None] = Field(default=None, max_length=32, json_schema_extra=SIZE_SCHEMA)
    response_format: Literal["url", "b64_json"] | SkipJsonSchema[None] = "url"
    output_format: Literal["png", "jpeg", "webp"] | SkipJsonSchema[None] = None
    user: str | SkipJsonSchema[None] = Field(default=None, max_length=256)


class ImageEditDoc(ImageEditForm):
    """The documented multipart body of `POST /v1/images/edits`: the form fields and the files."""

    image: bytes = Field(description="PNG, JPEG or WebP file")
    mask: bytes | SkipJsonSchema[None] = Field(default=None, description="optional PNG mask")


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
