"""Request models of OpenAI's Responses API under /v1 (contract §12); they feed /openapi.json.

Every field of OpenAI's `responses.create` is declared: honoured, or refused by name with a
sentence (controllers/openai_responses.py `RESPONSE_FIELDS`). Input items and tools are checked
item by item there, so that an error names `input[2].content[0].type`, not a union's internals.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from controllers.schemas.base import INT32_MAX, NONBLANK
from controllers.schemas.content import IMAGE_URL_PATTERN

_NAME = r"^[a-zA-Z0-9_-]{1,64}$"

Refused = SkipJsonSchema[Any]  # declared so that it is refused by name, not documented


class InputTextPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["input_text"]
    text: str


class InputImagePart(BaseModel):
    # `image_url` is what Muse honours (documented as required); `file_id` is refused by name
    model_config = ConfigDict(extra="forbid", json_schema_extra={"required": ["type", "image_url"]})

    type: Literal["input_image"]
    image_url: str | None = Field(default=None, json_schema_extra={  # a data: URL, https or muse://images/…
        "anyOf": [{"type": "string", "minLength": 1, "pattern": IMAGE_URL_PATTERN}]})
    file_id: Refused = None
    detail: Literal["auto", "low", "high"] = "auto"


class OutputTextPart(BaseModel):
    """Text of an earlier answer, as an output message item carries it (sent back by clients)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["output_text"]
    text: str
    annotations: list[Any] = Field(default_factory=list, max_length=0)  # Muse answers carry none
    logprobs: list[Any] | None = None


class RefusalPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["refusal"]
    refusal: str


ContentPart = Annotated[InputTextPart | InputImagePart | OutputTextPart | RefusalPart,
                        Field(discriminator="type")]


# Images are accepted in user turns only (the chat rule); documented so.
_IMAGES_IN_USER_TURNS_ONLY: dict[str, Any] = {"allOf": [{
    "if": {"properties": {"role": {"const": "user"}}},
    "else": {"properties": {"content": {"anyOf": [{"type": "string"}, {"type": "array", "items": {
        "not": {"required": ["type"], "properties": {"type": {"const": "input_image"}}}}}]}}}}]}


# A turn says something: a part with non-blank text, or an image (a blank turn is refused naming it).
_SAYS: dict[str, Any] = {"anyOf": [
    {"required": ["type", "text"], "properties": {"type": {"enum": ["input_text", "output_text"]},
                                                  "text": {"type": "string", "pattern": NONBLANK}}},
    {"required": ["type", "refusal"], "properties": {"type": {"const": "refusal"},
                                                     "refusal": {"type": "string", "pattern": NONBLANK}}},
    {"required": ["type"], "properties": {"type": {"const": "input_image"}}}]}


# A request asks something: a user or assistant turn, or a function call or its output (system and
# developer turns alone are refused: "At least one user or assistant message").
_ASKS: dict[str, Any] = {"anyOf": [
    {"required": ["role"], "properties": {"role": {"enum": ["user", "assistant"]}}},
    {"required": ["type"], "properties": {"type": {"enum": ["function_call", "function_call_output"]}}}]}


class MessageItem(BaseModel):
    """A turn: `role` and text or parts (`id`/`status` of an earlier output item are accepted)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_IMAGES_IN_USER_TURNS_ONLY)

    type: Literal["message"] = "message"
    role: Literal["user", "system", "developer", "assistant"]
    content: Annotated[str, Field(pattern=NONBLANK)] | Annotated[list[ContentPart], Field(
        min_length=1, json_schema_extra={"contains": _SAYS})]
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class FunctionCallItem(BaseModel):
    """A function call of an earlier answer."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["function_call"]
    call_id: str = Field(min_length=1, max_length=200)
    name: str = Field(pattern=_NAME)
    arguments: str = Field(max_length=100_000)
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class FunctionCallOutputItem(BaseModel):
    """The result of a function call (`call_id` names it)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1, max_length=200)
    output: str | list[InputTextPart]
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class FunctionToolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["function"]
    name: str = Field(pattern=_NAME)
    description: str | None = Field(default=None, max_length=4000)
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FunctionChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["function"]
    name: str = Field(pattern=_NAME)


class FormatText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text"]


class FormatJsonObject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["json_object"]


class FormatJsonSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["json_schema"]
    name: str = Field(pattern=_NAME)
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Annotated[FormatText | FormatJsonObject | FormatJsonSchema,
                      Field(discriminator="type")] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Refused = None
    generate_summary: Refused = None


InputItem = MessageItem | FunctionCallItem | FunctionCallOutputItem
Undocumented = SkipJsonSchema[dict[str, Any]]  # checked by hand, so that the error names the place


class ResponseCreateIn(BaseModel):
    """`POST /v1/responses`: OpenAI's request; `input` items and `tools` are checked one by one."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)
    # Items and tools Muse does not offer are not documented; they are refused by name (400).
    input: Annotated[str, Field(min_length=1)] | Annotated[list[InputItem | Undocumented], Field(
        min_length=1, max_length=200, json_schema_extra={"contains": _ASKS})]
    instructions: str | None = None
    tools: list[FunctionToolIn | Undocumented] | None = Field(default=None, max_length=128)
    tool_choice: Literal["auto", "none", "required"] | FunctionChoice | Undocumented | None = None
    parallel_tool_calls: bool | None = None
    text: TextIn | None = None
    max_output_tokens: int | None = Field(default=None, ge=1, le=INT32_MAX)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    stream: bool | None = False
    store: bool | None = True
    previous_response_id: str | None = Field(default=None, max_length=100)
    metadata: dict[str, Annotated[str, Field(max_length=512)]] | None = Field(default=None, max_length=16)
    user: str | None = Field(default=None, max_length=256)
    safety_identifier: str | None = Field(default=None, max_length=256)
    # Limited fields: documented with the values honoured; others are refused by name.
    include: list[str] | None = Field(default=None, json_schema_extra={
        "anyOf": [{"type": "array", "items": {"type": "string"}, "maxItems": 0}, {"type": "null"}]})
    reasoning: ReasoningIn | None = None
    truncation: Literal["disabled", "auto"] | None = Field(default=None, json_schema_extra={
        "anyOf": [{"const": "disabled"}, {"type": "null"}]})
    # Refused by name (declared, not documented): see RESPONSE_FIELDS.
    background: Refused = None
    conversation: Refused = None
    prompt: Refused = None
    prompt_cache_key: Refused = None
    prompt_cache_retention: Refused = None
    prompt_cache_options: Refused = None
    service_tier: Refused = None
    top_logprobs: Refused = None
    max_tool_calls: Refused = None
    stream_options: Refused = None
    context_management: Refused = None
    moderation: Refused = None
    access_programs: Refused = None
    background_options: Refused = None
    image: Refused = None


class ResponseOut(BaseModel):
    """A `response` object (documented, not validated: streamed answers are typed SSE events)."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["response"]
    created_at: int
    status: Literal["completed", "incomplete", "failed", "in_progress"]
    model: str
    output: list[dict[str, Any]]
    output_text: str
    usage: dict[str, Any] | None = None
    previous_response_id: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class ResponseDeletedOut(BaseModel):
    id: str
    object: Literal["response"]
    deleted: bool
