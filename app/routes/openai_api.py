"""OpenAI-compatible routes under /v1 (contract §12): for OpenAI SDKs, Open WebUI, LibreChat.

Errors under /v1 use OpenAI's envelope `{"error": {...}, "request_id"}` (app/problems.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from quart import Blueprint, g
from quart_schema import DataSource, document_request, document_response, validate_request, validate_response

from app.openapi import event_stream, problems
from app.routes.deps import container
from controllers.schemas.embeddings import EmbeddingsIn, EmbeddingsOut
from controllers.schemas.openai import (
    ChatCompletionIn,
    ChatCompletionOut,
    ImageEditDoc,
    ImageGenerationIn,
    ImagesOut,
    ModelList,
    ModelOut,
)
from middlewares.access import require_role
from middlewares.idempotency import idempotent
from middlewares.policy import policy
from middlewares.request_id import current_request_id
from services.platform.principal import Role

bp = Blueprint("openai", __name__)
F = TypeVar("F", bound=Callable[..., Any])

_ERROR_STATUSES = (400, 401, 402, 403, 404, 409, 422, 429, 502, 503, 504)


def document_errors(fn: F) -> F:
    """Document OpenAI's error envelope for the statuses a /v1 operation can answer (each a
    reference to the one `OpenAIError<status>` answer of the document, app/openapi.py)."""
    return problems(*_ERROR_STATUSES)(fn)


@bp.get("/v1/models")
@require_role(Role.USER)
@policy()
@validate_response(ModelList)
@document_errors
async def list_models():
    """Exactly the models the caller can use: the chat models their role allows and every image model,
    each with its `capabilities` (`chat`, `images`)."""
    return await container().web.openai_controller.models(g.principal)


@bp.get("/v1/models/<path:model_id>")
@require_role(Role.USER)
@policy()
@validate_response(ModelOut)
@document_errors
async def retrieve_model(model_id: str):
    """One model the caller can use (as listed by GET /v1/models); 404 `model_not_found` otherwise."""
    return await container().web.openai_controller.model(g.principal, model_id)


@bp.post("/v1/chat/completions")
@require_role(Role.USER)
@policy(feature="chat", scope="chat", rate_take="owed")
@idempotent
@validate_request(ChatCompletionIn)
@document_response(ChatCompletionOut)  # documented, not validated: `stream` answers are SSE
@event_stream("With `\"stream\": true`: `data: {chat.completion.chunk}` lines ending with `data: [DONE]`.")
@document_errors
async def chat_completions(data: ChatCompletionIn):
    """OpenAI-compatible chat completion, through Muse's chat service (credits, cache, failover).

    `stream: true` answers `text/event-stream` `chat.completion.chunk` lines ending with `data: [DONE]`;
    `stream_options.include_usage` adds a last chunk with `usage`. Headers `X-Muse-Credits-Charged`,
    `X-Muse-Cached`, `X-Muse-Provider`. Nothing is stored as a conversation."""
    return await container().web.openai_controller.chat_completions(data, g.principal, current_request_id())


@bp.post("/v1/images/generations")
@require_role(Role.USER)
@policy(feature="images", scope="images")
@idempotent
@validate_request(ImageGenerationIn)
@document_response(ImagesOut)
@document_errors
async def image_generations(data: ImageGenerationIn):
    """OpenAI-compatible image generation: waits up to IMAGE_TIMEOUT_S; `url` or `b64_json` outputs.

    `size` (`WIDTHxHEIGHT`) maps to the nearest supported aspect ratio; the image joins the gallery."""
    return await container().web.openai_controller.image_generations(data, g.principal, current_request_id())


@bp.post("/v1/images/edits")
@require_role(Role.USER)
@policy(feature="images", scope="images")
@idempotent
@document_request(ImageEditDoc, source=DataSource.FORM_MULTIPART)
@document_response(ImagesOut)
@document_errors
async def image_edits():
    """OpenAI-style image edit (multipart `image`, `prompt`, optional `mask`), answered like generations."""
    return await container().web.openai_controller.image_edits(g.principal, current_request_id())


@bp.post("/v1/embeddings")
@require_role(Role.USER)
@policy(scope="embeddings")
@idempotent
@validate_request(EmbeddingsIn)
@document_response(EmbeddingsOut)  # documented, not validated: millions of floats for a large batch
@document_errors
async def embeddings(data: EmbeddingsIn):
    """OpenAI-compatible embeddings of a catalogue embedding model (one provider per model, no failover).

    `input`: a text or up to 2048 texts; `dimensions`; `encoding_format` `float` or `base64`. Priced
    per 1 000 input tokens (`embedding_per_1k`, rounded up), cached. Headers `X-Muse-Credits-Charged`,
    `X-Muse-Cached`, `X-Muse-Provider`."""
    return await container().web.embeddings_controller.create(data, g.principal, current_request_id())
