"""Chat domain types and the conversation repository port (no framework imports)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.chat.cache import CacheKey
from services.chat.options import NO_OPTIONS, ChatOptions, ToolCall
from services.chat.ports import ChatMessage as ChatMessage  # re-exported: controllers build inputs with it
from services.chat.ports import FinishReason, MessageRole
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
class Conversation:
    """A stored conversation (owner-scoped)."""

    id: str
    owner_id: str
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int = 0
    active_leaf_id: str | None = None  # the branch shown (None: the newest message)
    pinned: bool = False


@dataclass(slots=True)
class StoredMessage:
    """A stored message of a conversation."""

    id: str
    conversation_id: str
    role: MessageRole
    content: str
    created_at: datetime
    provider: str | None = None
    model: str | None = None
    cached: bool = False
    credits_charged: int = 0
    request_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    status: str = "complete"  # "stopped": a streamed answer the client stopped reading (kept, charged)
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant turn's function calls
    tool_call_id: str | None = None  # a tool turn: the call it answers
    name: str | None = None  # a tool turn: the function's name
    images: list[dict[str, Any]] = field(default_factory=list)  # services/chat/images.py `stored_form`
    parent_id: str | None = None  # "": a first message; None: stored before branches (the previous one)


class ConversationRepository(Protocol):
    """Persistence of conversations and their messages."""

    async def create(self, *, owner_id: str, title: str, conversation_id: str | None = None,
                     messages: list[StoredMessage] | None = None) -> Conversation:
        """A new conversation (with `conversation_id` and first `messages` when given)."""
        ...

    async def get(self, conversation_id: str, *, owner_id: str) -> Conversation | None:
        """The owner's conversation, or None (also for another owner's)."""
        ...

    async def list(self, *, owner_id: str, limit: int, cursor: str | None,
                   pinned: bool | None = None) -> list[Conversation]:
        """Newest activity first; `cursor` is the last id of the previous page; only the pinned
        (True) or the unpinned (False) ones when `pinned` is given."""
        ...

    async def rename(self, conversation_id: str, *, owner_id: str, title: str) -> Conversation | None:
        """Retitle the owner's conversation; None when not found (or another owner's)."""
        ...

    async def messages(self, conversation_id: str, *, limit: int | None = None
                       ) -> builtins.list[StoredMessage]:
        """Messages oldest first (the last `limit` when given)."""
        ...

    async def append(self, conversation_id: str, messages: builtins.list[StoredMessage]) -> None:
        """Add messages, bump the conversation's counters and make the last message the active leaf."""
        ...

    async def update(self, conversation_id: str, *, owner_id: str, changes: dict[str, object]
                     ) -> Conversation | None:
        """Set `title` and/or `pinned`; None when not found (or another owner's)."""
        ...

    async def search(self, *, owner_id: str, text: str, limit: int
                     ) -> builtins.list[tuple[Conversation, StoredMessage | None]]:
        """Conversations whose title or a message matches `text` (a text index), newest activity
        first, each with a matching message (None: the title matched)."""
        ...

    async def delete_all(self, *, owner_id: str) -> builtins.list[str]:
        """Delete all the owner's conversations and their messages; the ids deleted."""
        ...

    async def set_active(self, conversation_id: str, *, owner_id: str, leaf_id: str) -> bool:
        """Make `leaf_id` the owner's conversation's active leaf; False when not found."""
        ...

    async def delete(self, conversation_id: str, *, owner_id: str) -> bool:
        """Delete the owner's conversation and its messages; False when not found."""
        ...


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
