"""Gemini embeddings through google-genai (`client.aio.models.embed_content`, no SDK retries).

In Gemini Developer API (API key) mode the SDK posts `models/{model}:batchEmbedContents`, which takes
at most `BATCH` requests: larger inputs go as several calls, concurrently, their vectors joined in
order. `dimensions` is Gemini's `outputDimensionality`. Gemini normalises only full-size vectors
(3 072 dimensions for gemini-embedding-001); a shortened one is normalised here, as OpenAI's vectors
always are, so cosine similarity is a dot product whatever the size. Gemini reports no token count.
"""

# ruff: noqa: ASYNC109  (the port's `timeout` is also handed to the SDK, not only awaited)
from __future__ import annotations

import asyncio
import math
from typing import Any

from google import genai
from google.genai import errors, types

from services.embeddings.ports import Embedded, EmbeddingProviderError, EmbeddingTimeout

NAME = "gemini"
DEFAULT_MODEL = "gemini-embedding-001"
BATCH = 100  # batchEmbedContents' limit of requests per call


def unit(vector: list[float]) -> list[float]:
    """`vector` scaled to length 1 (a zero vector stays as it is)."""
    norm = math.hypot(*vector)
    return [x / norm for x in vector] if norm else vector


class GeminiEmbeddingProvider:
    """`EmbeddingProvider` for the Gemini Developer API."""

    name = NAME

    def __init__(self, *, api_key: str, model: str = DEFAULT_MODEL, base_url: str | None = None) -> None:
        self.model = model
        options: dict[str, Any] = {"retry_options": {"attempts": 1}}
        if base_url:
            options["base_url"] = base_url
        self._client = genai.Client(api_key=api_key, http_options=types.HttpOptions(**options))

    async def _batch(self, texts: list[str], model: str, dimensions: int | None, timeout: float,
                     request_id: str | None) -> list[list[float]]:
        headers = {"X-Request-ID": request_id} if request_id else None
        config = types.EmbedContentConfig(
            output_dimensionality=dimensions,
            http_options=types.HttpOptions(headers=headers, timeout=int(timeout * 1000) + 1000))
        contents: types.ContentListUnion = list[types.ContentUnion](texts)  # one request per text
        answer = await self._client.aio.models.embed_content(model=model, contents=contents, config=config)
        vectors = [list(e.values or []) for e in answer.embeddings or []]
        if len(vectors) != len(texts):
            raise EmbeddingProviderError(NAME, f"{len(vectors)} vectors for {len(texts)} inputs")
        return vectors

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None, user: str | None,
                    timeout: float, request_id: str | None) -> Embedded:
        """One unit vector per text, in order (`user`: Gemini has no end-user field)."""
        batches = [texts[at:at + BATCH] for at in range(0, len(texts), BATCH)]
        try:
            async with asyncio.timeout(timeout):
                parts = await asyncio.gather(*(self._batch(batch, model, dimensions, timeout, request_id)
                                               for batch in batches))
        except TimeoutError as exc:
            raise EmbeddingTimeout(NAME, f"no answer within {timeout:g}s") from exc
        except errors.APIError as exc:
            raise EmbeddingProviderError(NAME, exc.message or f"{exc.code} {exc.status or ''}".strip(),
                                         status=exc.code) from exc
        except EmbeddingProviderError:
            raise
        except Exception as exc:  # transport failures, malformed answers the SDK could not parse
            raise EmbeddingProviderError(NAME, f"{type(exc).__name__}: {exc}") from exc
        return Embedded(vectors=[unit(v) for part in parts for v in part])

    async def aclose(self) -> None:
        await self._client.aio.aclose()
