"""OpenAI embeddings through the official SDK (`AsyncOpenAI.embeddings.create`, `max_retries=0`).

The SDK asks for base64 (little-endian float32) unless told otherwise and decodes it: the smaller
answer on the wire. `dimensions` and `user` are sent as given; OpenAI's `usage.prompt_tokens` is kept.
"""

# ruff: noqa: ASYNC109  (the port's `timeout` is also handed to the SDK, not only awaited)
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from services.embeddings.ports import Embedded, EmbeddingProviderError, EmbeddingTimeout

if TYPE_CHECKING:  # the SDK itself is imported with the client (issue 12)
    import openai

NAME = "openai"
DEFAULT_MODEL = "text-embedding-3-small"


class OpenAIEmbeddingProvider:
    """`EmbeddingProvider` for OpenAI's embeddings API."""

    name = NAME
    lazy_sdk = "openai"

    def __init__(self, *, api_key: str, model: str = DEFAULT_MODEL, base_url: str | None = None) -> None:
        self.model = model
        self._api_key, self._base_url = api_key, base_url
        self._client: openai.AsyncOpenAI | None = None

    @property
    def client(self) -> openai.AsyncOpenAI:
        """One pooled client, made on first use (start-up does not load the SDK)."""
        if self._client is None:
            import openai

            self._client = openai.AsyncOpenAI(api_key=self._api_key, base_url=self._base_url, max_retries=0,
                                              http_client=openai.DefaultAioHttpClient())
        return self._client

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None, user: str | None,
                    timeout: float, request_id: str | None) -> Embedded:
        """One vector per text, in the order of the answer's `index`."""
        import openai

        extra: dict[str, Any] = {}
        if dimensions is not None:
            extra["dimensions"] = dimensions
        if user is not None:
            extra["user"] = user
        headers = {"X-Request-ID": request_id} if request_id else None
        try:
            async with asyncio.timeout(timeout):
                answer = await self.client.embeddings.create(input=texts, model=model, timeout=timeout,
                                                             extra_headers=headers, **extra)
        except TimeoutError as exc:
            raise EmbeddingTimeout(NAME, f"no answer within {timeout:g}s") from exc
        except openai.APITimeoutError as exc:
            raise EmbeddingTimeout(NAME, "the SDK timed out") from exc
        except openai.APIStatusError as exc:
            raise EmbeddingProviderError(NAME, _message(exc), status=exc.status_code) from exc
        except (openai.OpenAIError, ValueError) as exc:
            raise EmbeddingProviderError(NAME, f"{type(exc).__name__}: {exc}") from exc
        data = sorted(answer.data, key=lambda item: item.index)
        vectors = [list(item.embedding) for item in data]
        tokens = answer.usage.prompt_tokens if answer.usage is not None else None
        return Embedded(vectors=vectors, prompt_tokens=tokens)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()


def _message(exc: Any) -> str:
    body = exc.body if isinstance(getattr(exc, "body", None), dict) else {}
    message = body.get("message") if isinstance(body.get("message"), str) else None
    return message or f"HTTP {exc.status_code}"
