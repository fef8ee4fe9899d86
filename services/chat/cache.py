"""Response cache of the chat service: key = hash(resolved model, messages, sampling params, max_tokens,
and every other option that can change the answer: services/chat/options.py `cache_shape`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from services.chat.options import ChatOptions, ToolCall
from services.chat.ports import ChatCompletion, ChatMessage, FinishReason
from services.platform.ports.cache import KeyValueStore
from services.platform.rate_limit import owed_take


@dataclass(frozen=True, slots=True)
class CacheKey:
    """The cache entry and coalescing lock of one request shape."""

    digest: str

    @property
    def entry(self) -> str:
        return f"muse:chat:cache:{self.digest}"

    @property
    def lock(self) -> str:
        return f"muse:chat:lock:{self.digest}"


def _message_shape(message: ChatMessage) -> list[object]:
    """[role, content], plus images (content hash, detail) and the tool calls / tool result id of a
    tool loop's turns (text-only turns keep the keys they had before images and tools existed)."""
    shape: list[object] = [message.role, message.content]
    if message.images:
        shape.append([[i.sha256, i.detail] for i in message.images])
    if message.tool_calls:
        shape.append([[c.id, c.name, c.arguments] for c in message.tool_calls])
    if message.tool_call_id is not None:
        shape.append({"tool_call_id": message.tool_call_id, "name": message.name})
    return shape


def cache_key(*, model: str, messages: list[ChatMessage], temperature: float | None,
              max_tokens: int | None = None, options: ChatOptions | None = None) -> CacheKey:
    """Stable hash of everything that shapes the answer (a length limit, a stop sequence, a seed,
    tools or an output format give another answer; an image enters by its content hash and `detail`)."""
    shape: dict[str, object] = {"model": model, "messages": [_message_shape(m) for m in messages],
                                "temperature": temperature}
    if max_tokens is not None:  # unlimited requests keep the keys they had before limits existed
        shape["max_tokens"] = max_tokens
    extra = options.cache_shape() if options is not None else {}
    if extra:  # so do requests without any other option
        shape["options"] = extra
    payload = json.dumps(shape,
        ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return CacheKey(hashlib.sha256(payload.encode()).hexdigest())


class ChatCache:
    """Stores whole answers for `ttl_s` seconds."""

    def __init__(self, store: KeyValueStore, *, ttl_s: int) -> None:
        self.store = store
        self.ttl_s = ttl_s

    async def get(self, key: CacheKey) -> ChatCompletion | None:
        """The cached answer, or None (a broken entry counts as a miss)."""
        return self._parse(await self.store.get(key.entry))

    async def claim(self, key: CacheKey, *, ttl_ms: int) -> tuple[ChatCompletion | None, bool]:
        """(answer, False) on a hit; else (None, held) after trying the coalescing lock (one round trip,
        which also carries the request's owed rate-limit token: 429 when refused, nothing touched)."""
        owed = owed_take()
        if owed is None:
            raw, held = await self.store.get_or_acquire(key.entry, key.lock, ttl_ms=ttl_ms)
        else:
            taken, raw, held = await self.store.take_and_claim(owed.take, key.entry, key.lock, ttl_ms=ttl_ms)
            owed.record(taken)
        answer = self._parse(raw)
        if raw is not None and answer is None:  # a broken entry: a miss, and the lock was not tried
            return None, await self.store.acquire(key.lock, ttl_ms=ttl_ms)
        return answer, held

    @staticmethod
    def _parse(raw: str | None) -> ChatCompletion | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            usage = tuple(data["usage"]) if data.get("usage") else None
            finish: FinishReason = data.get("finish_reason") if data.get("finish_reason") in (
                "length", "tool_calls") else "stop"
            calls = tuple(ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"])
                          for c in data.get("tool_calls") or ())
            return ChatCompletion(content=data["content"], provider=data["provider"], model=data["model"],
                                  usage=usage, finish_reason=finish, tool_calls=calls,
                                  logprobs=data.get("logprobs"))
        except (ValueError, KeyError, TypeError):
            return None

    async def put(self, key: CacheKey, answer: ChatCompletion, *, unlock: bool = False) -> None:
        """Remember `answer` under `key` (and release its coalescing lock in the same round trip)."""
        value = json.dumps({"content": answer.content, "provider": answer.provider, "model": answer.model,
                            "usage": answer.usage, "finish_reason": answer.finish_reason,
                            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments}
                                           for c in answer.tool_calls], "logprobs": answer.logprobs})
        if unlock:
            await self.store.set_and_release(key.entry, value, ttl_s=self.ttl_s, lock_key=key.lock)
        else:
            await self.store.set(key.entry, value, ttl_s=self.ttl_s)
