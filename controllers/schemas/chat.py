"""Request and response models of the chat endpoints (used by controllers/chat.py)."""

from __future__ import annotations

from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import JsonDict

from controllers.chat_fields import fields_doc
from controllers.schemas.base import CURSOR_MAX, INT32_MAX, NONBLANK, RequestBody
from controllers.schemas.chat_options import OptionsIn, ToolCallIn, unless_honoured
from controllers.schemas.content import content_type, text_only_schema

MessageContent = content_type(muse_ids=True, nonblank=True)


_MESSAGE_RULES: JsonDict = {"allOf": [
    {"if": {"properties": {"role": {"const": "tool"}}},
     "then": {"required": ["tool_call_id"], "properties": {"tool_call_id": {"type": "string"},
                                                           "content": {"type": "string"}}},
     "else": {"properties": {"tool_call_id": {"type": "null"}}}},
    {"if": {"properties": {"role": {"const": "user"}}},
     "else": {"properties": {"content": text_only_schema()}}},
    {"if": {"properties": {"role": {"const": "assistant"}}},
     "else": {"properties": {"tool_calls": {"anyOf": [{"type": "null"}, {"type": "array", "maxItems": 0}]}}}},
]}


class MessageIn(RequestBody):
    """A turn: a user turn may carry images; an assistant turn may carry `tool_calls` (then its
    content may be empty); a `tool` turn answers the call `tool_call_id`."""

    model_config = ConfigDict(json_schema_extra=_MESSAGE_RULES)

    role: Literal["system", "user", "assistant", "tool"]
    # a string, or text / image_url / image parts (read by services/chat/content.py)
    content: MessageContent  # type: ignore[valid-type]
    tool_calls: list[ToolCallIn] | None = Field(default=None, max_length=128)
    tool_call_id: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _tool_shape(self) -> MessageIn:
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only assistant messages carry tool_calls")
        if (self.role == "tool") != (self.tool_call_id is not None):
            raise ValueError("tool messages, and only they, carry tool_call_id")
        if self.role == "tool" and not isinstance(self.content, str):
            raise ValueError("a tool message's content is text")
        return self


_API_FIELDS = {name: doc for name, doc in fields_doc().items() if name in (
    "temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty", "max_tokens",
    "logit_bias", "reasoning_effort", "verbosity", "user", "safety_identifier", "tools", "tool_choice",
    "parallel_tool_calls", "response_format")}


class ChatIn(OptionsIn):
    model_config = ConfigDict(json_schema_extra={
        "x-muse-fields": cast(JsonDict, _API_FIELDS),
        # a branch (`parent_id`) continues a stored conversation
        "if": {"properties": {"parent_id": {"type": "string"}}, "required": ["parent_id"]},
        "then": {"required": ["conversation_id"],
                 "properties": {"conversation_id": {"type": "string", "minLength": 1}}},
        "allOf": [unless_honoured("logit_bias"), unless_honoured("verbosity")]})

    messages: list[MessageIn] = Field(min_length=1, max_length=50)
    conversation_id: str | None = None
    # the configured model names are listed in /openapi.json (app/openapi.py resolves the marker)
    model: str = Field(default="default", json_schema_extra={"x-muse-choices": "chat_models"})
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1, le=INT32_MAX)
    stream: bool = False
    store: bool = True
    parent_id: str | None = Field(default=None, max_length=64, description=(
        "With `conversation_id`: continue from this message instead of the active leaf (edit and "
        "re-send starts a branch there; `\"\"`: from the start, a new first message); the new answer "
        "becomes the active leaf."))


class RegenerateIn(RequestBody):
    """POST /api/v1/conversations/{id}/messages/{message_id}/regenerate."""

    model: str = Field(default="default", json_schema_extra={"x-muse-choices": "chat_models"})
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    stream: bool = False


class ActiveIn(RequestBody):
    """PUT /api/v1/conversations/{id}/active: the branch to show."""

    leaf_id: str = Field(min_length=1, description="A message of the conversation; the branch continues "
                         "through it to its newest reply.")


class FunctionCallOut(BaseModel):
    name: str
    arguments: str


class ToolCallOut(BaseModel):
    id: str
    type: Literal["function"]
    function: FunctionCallOut


class MessageOut(BaseModel):
    role: str
    content: str
    tool_calls: list[ToolCallOut] | None = None


class ChatOut(BaseModel):
    id: str
    conversation_id: str | None
    message: MessageOut
    provider: str
    model: str
    cached: bool
    credits_charged: int
    request_id: str | None
    finish_reason: Literal["stop", "length", "tool_calls"] = "stop"


class ListQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX)
    q: str | None = Field(default=None, max_length=200, description=(
        "Search the titles and message text (a text index: whole words, any case); the best `limit` "
        "matches, newest activity first, each with a `snippet`; no further page."))


class ExportQuery(BaseModel):
    format: Literal["md", "json"] = "md"


class ConversationOut(BaseModel):
    id: str
    title: str
    message_count: int
    created_at: str
    updated_at: str
    pinned: bool = False
    snippet: str | None = None  # search results only: the text around the first match


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class MessageImageOut(BaseModel):
    url: str  # read it with the same authentication as the conversation
    content_type: str
    image_id: str | None = None  # one of the caller's images; None for an image kept with the conversation


class StoredMessageOut(BaseModel):
    id: str
    role: str
    content: str
    images: list[MessageImageOut] = Field(default_factory=list)
    provider: str | None = None
    model: str | None = None
    cached: bool = False
    status: Literal["complete", "stopped"] = "complete"  # stopped: the client stopped the stream
    created_at: str
    tool_calls: list[ToolCallOut] | None = None  # an assistant turn's calls
    tool_call_id: str | None = None  # a tool turn: the call it answers
    parent_id: str | None = None  # null: the conversation's first message
    siblings: list[str] = Field(default_factory=list)  # the alternatives at this place, itself included


class RenameIn(RequestBody):
    """PATCH /api/v1/conversations/{id}: rename and/or pin (pinned ones list first)."""

    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=NONBLANK)
    pinned: bool | None = None


class ConversationDetail(ConversationOut):
    active_leaf_id: str | None = None
    messages: list[StoredMessageOut]  # the active path: the first message down to the active leaf
