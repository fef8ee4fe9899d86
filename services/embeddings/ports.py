"""The embedding provider port: what the embeddings service needs from a provider's embedding API.

Adapters (`providers/gemini_embeddings`, `openai_embeddings`, `local_embeddings`) map their SDK's
errors onto `EmbeddingProviderError` (with the HTTP status when there was one) and
`EmbeddingTimeout`; the service refunds the charge and answers 400 (the provider refused the input),
504 (timeout) or 502 (anything else).
"""

# ruff: noqa: ASYNC109  (the port's `timeout` is handed to the SDK, not only awaited)
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Embedded:
    """A provider's vectors, one per input in order, and the input tokens it counted (None: none)."""

    vectors: list[list[float]]
    prompt_tokens: int | None = None


class EmbeddingProviderError(Exception):
    """A provider could not embed (error status, broken or malformed answer)."""

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.status = status


class EmbeddingTimeout(EmbeddingProviderError):
    """A provider did not answer within the timeout."""


@runtime_checkable
class EmbeddingProvider(Protocol):
    """An embedding API. `name` is what clients see as the provider; `model` its default model id."""

    name: str
    model: str

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None, user: str | None,
                    timeout: float, request_id: str | None) -> Embedded:
        """One vector per text, in order; `dimensions` (None: the model's native size) reaches the
        provider; `user` names the end user where the provider takes it (OpenAI)."""
        ...

    async def aclose(self) -> None:
        """Release the SDK's connections."""
        ...
