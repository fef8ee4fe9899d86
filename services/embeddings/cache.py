"""Response cache of the embeddings service (contract §12: cached like chat).

The key is a hash of everything that shapes the vectors: the model name, the provider and its model
id it resolved to, the inputs in order, and `dimensions`. `encoding_format` and `user` are not in it:
the encoding is presentation only (the same vectors, as floats or base64), and `user` names the end
user for the provider's abuse monitoring without changing an answer.

Vectors are float32 from the provider boundary on (OpenAI's own precision; its base64 encoding is
little-endian float32), so a cached answer is bit-for-bit the fresh one. An answer larger than
`MAX_CACHED_BYTES` is not kept (a 2 048-input batch of 3 072-dimension vectors is 25 MB).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from array import array
from dataclasses import dataclass
from typing import TypeAlias

from services.platform.ports.cache import KeyValueStore

MAX_CACHED_BYTES = 4 * 1024 * 1024

Vector: TypeAlias = "array[float]"  # array("f"): float32


def float32(values: list[float]) -> Vector:
    """A provider's vector at float32 precision."""
    return array("f", values)


def le_bytes(vector: Vector) -> bytes:
    """The vector as little-endian float32 bytes (OpenAI's base64 form)."""
    if sys.byteorder == "little":
        return vector.tobytes()
    swapped = array("f", vector)
    swapped.byteswap()
    return swapped.tobytes()


def from_le_bytes(data: bytes) -> Vector:
    """The inverse of `le_bytes`."""
    vector = array("f")
    vector.frombytes(data)
    if sys.byteorder != "little":
        vector.byteswap()
    return vector


@dataclass(frozen=True, slots=True)
class EmbeddingKey:
    """The cache entry and coalescing lock of one request shape."""

    digest: str

    @property
    def entry(self) -> str:
        return f"muse:embed:cache:{self.digest}"

    @property
    def lock(self) -> str:
        return f"muse:embed:lock:{self.digest}"


def embedding_key(*, model: str, provider: str, provider_model: str, texts: list[str],
                  dimensions: int | None) -> EmbeddingKey:
    """Stable hash of what shapes the vectors (not the encoding, not `user`)."""
    shape = {"model": model, "provider": provider, "provider_model": provider_model, "input": texts,
             "dimensions": dimensions}
    payload = json.dumps(shape, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return EmbeddingKey(hashlib.sha256(payload.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class CachedEmbeddings:
    """What a cache entry holds: the vectors, the tokens counted, the provider that made them."""

    vectors: list[Vector]
    prompt_tokens: int
    provider: str


class EmbeddingCache:
    """Stores whole answers for `ttl_s` seconds."""

    def __init__(self, store: KeyValueStore, *, ttl_s: int) -> None:
        self.store = store
        self.ttl_s = ttl_s

    async def get(self, key: EmbeddingKey) -> CachedEmbeddings | None:
        """The cached answer, or None (a broken entry counts as a miss)."""
        return self.parse(await self.store.get(key.entry))

    async def claim(self, key: EmbeddingKey, *, ttl_ms: int) -> tuple[CachedEmbeddings | None, bool]:
        """(answer, False) on a hit; else (None, held) after trying the coalescing lock."""
        raw, held = await self.store.get_or_acquire(key.entry, key.lock, ttl_ms=ttl_ms)
        found = self.parse(raw)
        if raw is not None and found is None:
            return None, await self.store.acquire(key.lock, ttl_ms=ttl_ms)
        return found, held

    @staticmethod
    def parse(raw: str | None) -> CachedEmbeddings | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            vectors = [from_le_bytes(base64.b64decode(v)) for v in data["vectors"]]
            return CachedEmbeddings(vectors=vectors, prompt_tokens=int(data["prompt_tokens"]),
                                    provider=str(data["provider"]))
        except (ValueError, KeyError, TypeError):
            return None

    async def put(self, key: EmbeddingKey, answer: CachedEmbeddings, *, unlock: bool) -> bool:
        """Remember `answer` (unless too large) and release the lock if held; whether it was kept."""
        size = sum(len(v) for v in answer.vectors) * 4
        if size > MAX_CACHED_BYTES:
            if unlock:
                await self.store.release(key.lock)
            return False
        value = json.dumps({"vectors": [base64.b64encode(le_bytes(v)).decode() for v in answer.vectors],
                            "prompt_tokens": answer.prompt_tokens, "provider": answer.provider})
        if unlock:
            await self.store.set_and_release(key.entry, value, ttl_s=self.ttl_s, lock_key=key.lock)
        else:
            await self.store.set(key.entry, value, ttl_s=self.ttl_s)
        return True
