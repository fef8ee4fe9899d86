"""The chat provider port: what the chat service (and image describe) needs from an LLM.

Adapters (`providers/gemini_chat`, `openai_chat`, `local_chat`) map their SDK's
errors onto `ProviderError` / `ProviderTimeout`; the failover turns them into
`UpstreamError` / `UpstreamTimeout` once every provider has failed.
"""

# ruff: noqa: ASYNC109  (the port's `timeout` is also handed to the SDK, not only awaited)
from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from services.chat.options import NO_OPTIONS, ChatOptions, ToolCall
from services.media.image_models import ImageRecord

MessageRole = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls"]


@dataclass(frozen=True, slots=True)
class ChatImage:
    """An image in a message (vision chat): its checked bytes, type and content hash.

    `ref` is where Muse keeps it once known: "img_…" (one of the caller's images) or the
    storage key of an image stored with a conversation; None for an image not stored (yet)."""

    data: bytes = field(repr=False)
    mime: str  # image/png | image/jpeg | image/webp | image/gif
    sha256: str
    ref: str | None = None
    detail: str | None = None  # OpenAI's `detail` ("low" | "high" | "auto"): how closely it is read


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a conversation: a user turn may carry images; an assistant turn may carry
    `tool_calls`; a `tool` turn is the result of the call `tool_call_id` (named `name`)."""

    role: MessageRole
    content: str
    images: tuple[ChatImage, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None  # a tool turn: the function that answered


@dataclass(frozen=True, slots=True)
class ChatCompletion:
    """A whole answer from one provider."""

    content: str
    provider: str
    model: str
    usage: tuple[int, int] | None = None  # (prompt, completion) tokens, when the provider reports them
    finish_reason: FinishReason = "stop"  # "length": the provider stopped at `max_tokens` (a whole answer)
    tool_calls: tuple[ToolCall, ...] = ()  # finish reason "tool_calls": the model asks for these calls
    logprobs: dict[str, Any] | None = None  # OpenAI's `choices[].logprobs` object, when asked for


class LimitReached(str):
    """The last delta of a stream the provider stopped at `max_tokens` (its text may be empty).

    A stream that ends at the limit is a whole answer (finish reason "length"), unlike a
    stream that ends without any finish reason, which adapters report as a `ProviderError`."""

    __slots__ = ()


Delta = str | ToolCall  # a stream's pieces: text, or a whole tool call (relayed as OpenAI's fragments)


class ProviderError(Exception):
    """A provider could not answer (error, 429, 5xx, broken stream); the next one may."""

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status


class ProviderTimeout(ProviderError):
    """A provider did not answer within the timeout."""


@runtime_checkable
class ChatProvider(Protocol):
    """A chat LLM. `name` is what clients see as `provider`; `model` the model it calls."""

    name: str
    model: str

    async def complete(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None, max_tokens: int | None = None,
        options: ChatOptions = NO_OPTIONS,
    ) -> ChatCompletion:
        """The whole answer to `messages` (system turns become the system prompt).

        `model` overrides the provider's configured model for this call (premium models);
        `max_tokens` bounds the answer's length (an answer stopped there has finish reason "length");
        `options` are the request's other options, all honoured (see `unsupported`)."""
        ...

    def stream(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None, max_tokens: int | None = None,
        options: ChatOptions = NO_OPTIONS,
    ) -> AsyncIterator[Delta]:
        """The answer as text deltas and whole tool calls; `timeout` bounds the wait for each chunk.

        A stream stopped at `max_tokens` ends with a `LimitReached` delta."""
        ...

    def unsupported(self, options: ChatOptions) -> str | None:
        """The name of the first option this provider cannot honour, or None (it honours them all)."""
        ...

    async def describe_image(
        self, image: bytes, *, mime: str, instruction: str, timeout: float, request_id: str | None
    ) -> ChatCompletion:
        """A text answer about one image (vision)."""
        ...

    async def aclose(self) -> None:
        """Release the SDK's connections."""
        ...


class ImageLookup(Protocol):
    """The media records of a user (repositories/images.py)."""

    async def get(self, image_id: str, *, user_id: str | None = None) -> ImageRecord | None:
        """The record, only if it belongs to `user_id`."""
        ...


@dataclass(frozen=True)
class StoredResponse:
    """A `/v1/responses` answer kept for `previous_response_id`, retrieval and deletion (contract §12).

    `body` is the response object as answered; `history` the conversation up to and including this
    answer, as chat-completions messages (what a continuation sends before its own input)."""

    id: str
    user_id: str
    created_at: datetime
    body: dict[str, Any]
    history: list[dict[str, Any]]


class ResponseStore(Protocol):
    """Persistence of stored responses, always scoped to their owner."""

    async def insert(self, response: StoredResponse) -> None:
        """Keep `response`."""
        ...

    async def get(self, response_id: str, *, user_id: str) -> StoredResponse | None:
        """The owner's response with this id, or None (another user's is None too)."""
        ...

    async def delete(self, response_id: str, *, user_id: str) -> bool:
        """Delete the owner's response; False when there was none."""
        ...

    async def delete_all(self, user_id: str) -> int:
        """Delete every response of the user (account deletion); how many there were."""
        ...


# Conversations: their records and their repository (repositories/conversations.py).

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
