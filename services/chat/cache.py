"""Response cache of the chat service: key = hash(resolved model, messages, sampling params, max_tokens)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from services.chat.ports import ChatCompletion, ChatMessage, FinishReason
from services.platform.ports.cache import KeyValueStore


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


def cache_key(*, model: str, messages: list[ChatMessage], temperature: float | None,
              max_tokens: int | None = None) -> CacheKey:
    """Stable hash of everything that shapes the answer (a length limit gives another answer; an
    image enters by its content hash and `detail`)."""
    shape: dict[str, object] = {"model": model, "messages": [_message(m) for m in messages],
                                "temperature": temperature}
    if max_tokens is not None:  # unlimited requests keep the keys they had before limits existed
        shape["max_tokens"] = max_tokens
    payload = json.dumps(shape,
        ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return CacheKey(hashlib.sha256(payload.encode()).hexdigest())


def _message(m: ChatMessage) -> list[object]:
    if not m.images:  # text-only turns keep the keys they had before images existed
        return [m.role, m.content]
    return [m.role, m.content, [[i.sha256, i.detail] for i in m.images]]


class ChatCache:
    """Stores whole answers for `ttl_s` seconds."""

    def __init__(self, store: KeyValueStore, *, ttl_s: int) -> None:
        self.store = store
        self.ttl_s = ttl_s

    async def get(self, key: CacheKey) -> ChatCompletion | None:
        """The cached answer, or None (a broken entry counts as a miss)."""
        return self._parse(await self.store.get(key.entry))

    async def claim(self, key: CacheKey, *, ttl_ms: int) -> tuple[ChatCompletion | None, bool]:
        """(answer, False) on a hit; else (None, held) after trying the coalescing lock (one round trip)."""
        raw, held = await self.store.get_or_acquire(key.entry, key.lock, ttl_ms=ttl_ms)
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
            finish: FinishReason = "length" if data.get("finish_reason") == "length" else "stop"
            return ChatCompletion(content=data["content"], provider=data["provider"], model=data["model"],
                                  usage=usage, finish_reason=finish)
        except (ValueError, KeyError, TypeError):
            return None

    async def put(self, key: CacheKey, answer: ChatCompletion, *, unlock: bool = False) -> None:
        """Remember `answer` under `key` (and release its coalescing lock in the same round trip)."""
        value = json.dumps({"content": answer.content, "provider": answer.provider, "model": answer.model,
                            "usage": answer.usage, "finish_reason": answer.finish_reason})
        if unlock:
            await self.store.set_and_release(key.entry, value, ttl_s=self.ttl_s, lock_key=key.lock)
        else:
            await self.store.set(key.entry, value, ttl_s=self.ttl_s)
