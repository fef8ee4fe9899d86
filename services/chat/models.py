"""Chat domain types: a request, its answer, a prepared request (the conversation port: ports.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.chat.cache import CacheKey
from services.chat.options import NO_OPTIONS, ChatOptions, ToolCall
from services.chat.ports import ChatMessage as ChatMessage  # re-exported: controllers build inputs with it
from services.chat.ports import Conversation, FinishReason
from services.platform.catalog import ChatModel
from services.platform.principal import Role


@dataclass(frozen=True, slots=True)
class ChatInput:
    """One validated POST /api/v1/chat request."""

    user_id: str
    plan: str
    messages: list[ChatMessage]
    conversation_id: str | None = None
    model: str = "default"
    temperature: float | None = 0.7
    store: bool = True
    request_id: str | None = None
    role: Role = Role.USER  # premium models need a higher role
    max_tokens: int | None = None  # bound on the answer's length (OpenAI's max_tokens); part of the cache key
    options: ChatOptions = NO_OPTIONS  # sampling, tools, output format (services/chat/options.py)
    parent_id: str | None = None  # continue from this message (a branch), not the conversation's active leaf
    regenerate: str | None = None  # an assistant message to answer again (no new turns, the cache not read)


@dataclass(frozen=True, slots=True)
class ChatReply:
    """The answer to one chat request."""

    id: str
    conversation_id: str | None
    content: str
    provider: str
    model: str
    cached: bool
    credits_charged: int
    request_id: str | None
    usage: tuple[int, int] | None = None  # (prompt, completion) tokens as the provider reported them
    finish_reason: FinishReason = "stop"  # "length": stopped at `max_tokens`; "tool_calls": see tool_calls
    tool_calls: tuple[ToolCall, ...] = ()
    logprobs: dict[str, Any] | None = None


@dataclass(slots=True)
class Prepared:
    """A validated request with its history, cache key and message id."""

    inp: ChatInput
    conversation: Conversation | None
    context: list[ChatMessage]
    key: CacheKey
    message_id: str
    created: bool = False  # the conversation was made by this request
    parent_id: str = ""  # what the new turns continue from ("": the conversation's start)
    model: ChatModel | None = None  # the resolved catalogue entry


def title_of(messages: list[ChatMessage], *, limit: int = 80) -> str:
    """A title from the first user message (whitespace collapsed, cut at a word)."""
    text = next((m.content for m in messages if m.role == "user" and m.content), "") or "New conversation"
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut + "…"
