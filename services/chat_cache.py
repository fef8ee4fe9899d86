"""Response cache of the chat service: key = hash(resolved model, messages, sampling params)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from services.ports.cache import KeyValueStore
from services.ports.chat import ChatCompletion, ChatMessage


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


def cache_key(*, model: str, messages: list[ChatMessage], temperature: float | None) -> CacheKey:
    """Stable hash of everything that shapes the answer."""
    payload = json.dumps(
        {"model": model, "messages": [[m.role, m.content] for m in messages], "temperature": temperature},
        ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return CacheKey(hashlib.sha256(payload.encode()).hexdigest())


class ChatCache:
    """Stores whole answers for `ttl_s` seconds."""

    def __init__(self, store: KeyValueStore, *, ttl_s: int) -> None:
        self.store = store
        self.ttl_s = ttl_s

    async def get(self, key: CacheKey) -> ChatCompletion | None:
        """The cached answer, or None (a broken entry counts as a miss)."""
        raw = await self.store.get(key.entry)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            usage = tuple(data["usage"]) if data.get("usage") else None
            return ChatCompletion(content=data["content"], provider=data["provider"], model=data["model"],
                                  usage=usage)
        except (ValueError, KeyError, TypeError):
            return None

    async def put(self, key: CacheKey, answer: ChatCompletion) -> None:
        """Remember `answer` under `key`."""
        value = json.dumps({"content": answer.content, "provider": answer.provider, "model": answer.model,
                            "usage": answer.usage})
        await self.store.set(key.entry, value, ttl_s=self.ttl_s)
