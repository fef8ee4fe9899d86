"""Request and response models of the OpenAI-compatible API (contract §12); they feed /openapi.json.

Requests accept OpenAI's shapes; every field of OpenAI's chat request is declared here and
either honoured or refused by name (controllers/chat_fields.py, contract §18); a field OpenAI's
request does not have either is refused by name too (controllers/schemas/base.py `RequestBody`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict, SkipJsonSchema

from controllers.chat_fields import fields_doc
from controllers.schemas.base import INT32_MAX, RequestBody
from controllers.schemas.chat_options import OptionsIn, SdkEcho, ToolCallIn, unless_honoured
from controllers.schemas.content import content_type, says_something, text_content_type

UserContent = content_type(nonblank=True)
SystemContent = content_type(images=False, nonblank=True)
ToolContent = text_content_type()
AnswerContent = content_type(images=False, nullable=True)  # images are accepted in user turns only



def _only(kind: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Document the one value accepted besides null (others are refused by name) as
    `anyOf: [{"const": value}, null]`, a form client generators read (an `enum` holding null next to
    `anyOf` made openapi-python-client drop the whole operation, issue 27)."""
    def patch(schema: dict[str, Any]) -> None:
        schema.pop("enum", None)
        schema["anyOf"] = [{"type": kind, "const": value}, {"type": "null"}]
    return patch


class SystemMessageIn(RequestBody):
    """A system or developer turn: its content (a string, or text parts) must say something."""

    role: Literal["system", "developer"]
    content: SystemContent  # type: ignore[valid-type]
    name: str | None = None


class UserMessageIn(RequestBody):
    """A user turn: its content (a string, or text and image_url parts) must say something
    (services/chat/content.py reads the parts and names a bad one)."""

    role: Literal["user"]
    content: UserContent  # type: ignore[valid-type]
    name: str | None = None


class AssistantMessageIn(RequestBody):
    """An earlier answer (an empty one without tool calls is dropped), with the tool calls it made."""

    role: Literal["assistant"]
    content: AnswerContent = None  # type: ignore[valid-type]
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = Field(default=None, max_length=128)
    refusal: str | None = None
    parsed: SdkEcho = None  # the SDK's parse() of a structured answer (its text is `content`)


class ToolMessageIn(RequestBody):
    """The result of a tool call (`tool_call_id` names the call of an earlier assistant turn)."""

    role: Literal["tool"]
    content: ToolContent  # type: ignore[valid-type]
    tool_call_id: str = Field(min_length=1, max_length=200)


ChatMessageIn = Annotated[SystemMessageIn | UserMessageIn | AssistantMessageIn | ToolMessageIn,
                          Field(discriminator="role")]
# A request asks something: a user or tool turn, or an assistant turn with text or tool calls (an
# empty assistant turn is dropped; system turns alone are refused).
_ASKS: JsonDict = {"anyOf": [
    {"required": ["role"], "properties": {"role": {"enum": ["user", "tool"]}}},
    {"required": ["role", "tool_calls"], "properties": {"role": {"const": "assistant"},
                                                         "tool_calls": {"type": "array", "minItems": 1}}},
    {"required": ["role", "content"], "properties": {"role": {"const": "assistant"},
                                                     "content": says_something()}}]}


class StreamOptions(RequestBody):
    include_usage: bool = False


# `size` as documented (`WIDTHxHEIGHT` or `auto`); anything else is a 400 naming `size`.
_SIZE = r"^(auto|[1-9][0-9]{0,4}x[1-9][0-9]{0,4})$"
SIZE_SCHEMA: JsonDict = {"pattern": _SIZE}


# A refused field: declared (so that it is refused by name with a sentence, not ignored), not documented.
Refused = SkipJsonSchema[Any]


class ChatCompletionIn(OptionsIn):
    model_config = ConfigDict(json_schema_extra={
        "x-muse-fields": cast(JsonDict, fields_doc()),
        "allOf": [
            # a stream carries one choice, without log probabilities
            {"if": {"properties": {"stream": {"const": True}}, "required": ["stream"]},
             "then": {"properties": {"n": {"anyOf": [{"type": "null"}, {"type": "integer", "maximum": 1}]},
                                     "logprobs": {"enum": [None, False]}}}},
            {"if": {"properties": {"top_logprobs": {"type": "integer"}}, "required": ["top_logprobs"]},
             "then": {"required": ["logprobs"], "properties": {"logprobs": {"const": True}}}},
            *(unless_honoured(field) for field in ("logprobs", "logit_bias", "verbosity")),
        ]})

    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=200, json_schema_extra={
        "contains": _ASKS})
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1, le=INT32_MAX)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=INT32_MAX)
    n: int | None = Field(default=None, json_schema_extra={"minimum": 1, "maximum": 4})  # others 400
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    logprobs: bool | None = None  # OpenAI only (requests with it go there); streamed: refused
    top_logprobs: int | None = Field(default=None, ge=0, le=20)  # with logprobs
    # text only: "audio" is refused by name (400)
    modalities: list[str] | None = Field(default=None, json_schema_extra={"items": {"enum": ["text"]}})
    store: bool | None = Field(default=None, json_schema_extra={"const": False})  # true: 400
    audio: Refused = None
    prediction: Refused = None
    web_search_options: Refused = None
    functions: Refused = None
    function_call: Refused = None
    metadata: Refused = None
    service_tier: Refused = None
    prompt_cache_key: Refused = None
    prompt_cache_retention: Refused = None
    prompt_cache_options: Refused = None
    moderation: Refused = None


class FunctionCallOut(BaseModel):
    name: str
    arguments: str


class ToolCallOut(BaseModel):
    id: str
    type: Literal["function"]
    function: FunctionCallOut


class ChatMessageOut(BaseModel):
    role: Literal["assistant"]
    content: str | None
    refusal: str | None = None
    tool_calls: list[ToolCallOut] | None = None


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
    capabilities: list[Literal["chat", "images", "embeddings"]] = Field(description=(
        "What the model answers: `chat` (POST /v1/chat/completions, /v1/responses), `images` "
        "(POST /v1/images/generations and /edits), `embeddings` (POST /v1/embeddings)."))


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
    # streamed images are not offered (contract §18): `stream: true` or partial images are a 400 naming
    # the field, before anything is charged
    stream: bool | None = Field(default=None, json_schema_extra=_only("boolean", False))
    partial_images: int | None = Field(default=None, ge=0, le=3, json_schema_extra=_only("integer", 0))


class ImageEditForm(RequestBody):
    """Multipart fields of `POST /v1/images/edits` (`image` and optional `mask` are files).

    A form has no null: optional fields are documented without it (an empty field is left out)."""

    prompt: str = Field(min_length=1, max_length=2000)
    model: str | SkipJsonSchema[None] = Field(default=None, max_length=200)
    n: Annotated[int, Field(ge=1, le=4)] | SkipJsonSchema[None] = 1
    # checked like generations' `size` (an edit keeps the uploaded image's size, as the README says)
    size: str | SkipJsonSchema[None] = Field(default=None, max_length=32, pattern=_SIZE,
                                             json_schema_extra=SIZE_SCHEMA)
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
