"""Response cache of the chat service: key = hash(resolved model, messages, sampling params, max_tokens)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from services.ports.cache import KeyValueStore
from services.ports.chat import ChatCompletion, ChatMessage, FinishReason


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
    """Stable hash of everything that shapes the answer (a length limit gives another answer)."""
    shape: dict[str, object] = {"model": model, "messages": [[m.role, m.content] for m in messages],
                                "temperature": temperature}
    if max_tokens is not None:  # unlimited requests keep the keys they had before limits existed
        shape["max_tokens"] = max_tokens
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
        raw = await self.store.get(key.entry)
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

    async def put(self, key: CacheKey, answer: ChatCompletion) -> None:
        """Remember `answer` under `key`."""
        value = json.dumps({"content": answer.content, "provider": answer.provider, "model": answer.model,
                            "usage": answer.usage, "finish_reason": answer.finish_reason})
        await self.store.set(key.entry, value, ttl_s=self.ttl_s)
