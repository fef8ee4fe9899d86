"""`POST /v1/embeddings` (contract §12): OpenAI's shapes in and out, `EmbeddingService` inside."""

from __future__ import annotations

import base64
from typing import Any

from controllers.openai_api import muse_headers
from controllers.openai_errors import ModelNotFound
from controllers.schemas.embeddings import EmbeddingsIn
from services.embeddings.cache import Vector, le_bytes
from services.embeddings.service import EmbeddingInput, EmbeddingService
from services.platform.principal import Principal

Answer = tuple[dict[str, Any], int, dict[str, str]]


class EmbeddingsController:
    """HTTP ⇄ EmbeddingService in OpenAI's shapes."""

    def __init__(self, embeddings: EmbeddingService) -> None:
        self._embeddings = embeddings

    async def create(self, body: EmbeddingsIn, principal: Principal, request_id: str) -> Answer:
        """OpenAI's `list` of `embedding` objects; `X-Muse-*` headers say what was charged and cached."""
        resolved = self._embeddings.resolve(body.model)
        if resolved is None:
            raise ModelNotFound(f"The embedding model {body.model!r} does not exist or is not available "
                                "here; GET /v1/models lists yours (capability `embeddings`).", param="model")
        single = isinstance(body.input, str)
        texts = [body.input] if isinstance(body.input, str) else list(body.input)
        reply = await self._embeddings.embed(EmbeddingInput(
            user_id=principal.require_user_id(), plan=principal.plan, role=principal.role, model=body.model,
            texts=texts, dimensions=body.dimensions, user=body.user, request_id=request_id, single=single),
            resolved)
        b64 = body.encoding_format == "base64"
        data = [{"object": "embedding", "index": index,
                 "embedding": _encoded(vector, b64=b64)} for index, vector in enumerate(reply.vectors)]
        answer = {"object": "list", "data": data, "model": body.model,
                  "usage": {"prompt_tokens": reply.prompt_tokens, "total_tokens": reply.prompt_tokens}}
        return answer, 200, muse_headers(charged=reply.credits_charged, cached=reply.cached,
                                         provider=reply.provider)


def _encoded(vector: Vector, *, b64: bool) -> list[float] | str:
    return base64.b64encode(le_bytes(vector)).decode() if b64 else vector.tolist()
