"""Offline embeddings for `make run` without keys: deterministic vectors that still mean something.

Each text is hashed into `dimensions` buckets by its words and its character trigrams (the "hashing
trick", with a hashed sign per feature), then scaled to length 1: the same text always gives the
same vector, and texts sharing words or spellings are closer than unrelated ones. Labelled
`"provider": "local"`; never a stand-in for a real model's vectors.
"""

# ruff: noqa: ASYNC109  (the port's signature)
from __future__ import annotations

import hashlib
import math
import re

from services.embeddings.ports import Embedded

NAME = "local"
MODEL = "muse-local-embedding"
NATIVE_DIMENSIONS = 1024
_WORD = re.compile(r"\w+", re.UNICODE)


def _features(text: str) -> list[str]:
    lowered = text.lower()
    words = _WORD.findall(lowered)
    padded = f" {' '.join(words) or lowered.strip()} "
    return [f"w:{w}" for w in words] + [f"c:{padded[i:i + 3]}" for i in range(max(1, len(padded) - 2))]


def local_vector(text: str, dimensions: int) -> list[float]:
    """The unit vector of `text` in `dimensions` buckets."""
    vector = [0.0] * dimensions
    for feature in _features(text):
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        number = int.from_bytes(digest, "little")
        vector[number % dimensions] += 1.0 if number >> 63 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if not norm:  # features that cancelled out: a fixed direction rather than no vector
        vector[0], norm = 1.0, 1.0
    return [x / norm for x in vector]


class LocalEmbeddingProvider:
    """`EmbeddingProvider` that needs no network."""

    name = NAME
    model = MODEL

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None, user: str | None,
                    timeout: float, request_id: str | None) -> Embedded:
        size = dimensions or NATIVE_DIMENSIONS
        return Embedded(vectors=[local_vector(text, size) for text in texts])

    async def aclose(self) -> None:
        return None
