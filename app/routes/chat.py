"""Chat and conversation routes (contract §4)."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import document_response, validate_querystring, validate_request, validate_response

from app.openapi import answers, event_stream, problems
from app.routes.deps import container
from controllers.schemas.chat import (
    ActiveIn,
    ChatIn,
    ChatOut,
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    ExportQuery,
    ListQuery,
    RegenerateIn,
    RenameIn,
)
from middlewares.access import require_role
from middlewares.idempotency import idempotent
from middlewares.policy import policy
from middlewares.request_id import current_request_id
from services.platform.principal import Role

bp = Blueprint("chat", __name__)


@bp.post("/api/v1/chat")
@require_role(Role.USER)
@policy(feature="chat", scope="chat", rate_take="owed")
@event_stream("With `\"stream\": true`: `meta`, `delta`…, then `done` (or `error` with a problem).")
@problems(402, 404, 502, 503, 504)
@idempotent
@validate_request(ChatIn)
@document_response(ChatOut)  # documented, not validated: `stream` answers are SSE Response objects
async def chat(data: ChatIn):
    """Chat with the LLM (Gemini first, OpenAI as fallback); cached answers cost 0 credits.

    With `"stream": true` the answer is `text/event-stream`: `meta`, `delta`…, `done` (or `error`)."""
    return await container().chat.controller.chat(data, g.principal, current_request_id())


@bp.get("/api/v1/conversations")
@require_role(Role.USER)
@policy(scope="chat")
@validate_querystring(ListQuery)
@validate_response(ConversationPage)
async def list_conversations(query_args: ListQuery):
    """The caller's conversations, newest activity first (`updated_at`; cursor pagination)."""
    return await container().chat.controller.list(g.principal, query_args)


@bp.get("/api/v1/conversations/<conversation_id>")
@require_role(Role.USER)
@policy(scope="chat")
@validate_response(ConversationDetail)
async def get_conversation(conversation_id: str):
    """One of the caller's conversations with its messages; another user's is 404."""
    return await container().chat.controller.get(g.principal, conversation_id)


@bp.post("/api/v1/conversations/<conversation_id>/messages/<message_id>/regenerate")
@require_role(Role.USER)
@policy(feature="chat")
@event_stream("With `\"stream\": true`: `meta`, `delta`…, then `done` (or `error` with a problem).")
@problems(402, 404, 502, 503, 504)
@idempotent
@validate_request(RegenerateIn)
@document_response(ChatOut)  # documented, not validated: `stream` answers are SSE Response objects
async def regenerate_message(conversation_id: str, message_id: str, data: RegenerateIn):
    """Answer an assistant message's question again (contract §21): charged like a chat, the cache not
    read; the new answer is a sibling of the old one and becomes the active leaf."""
    return await container().chat.controller.regenerate(g.principal, conversation_id, message_id, data,
                                                        current_request_id())


@bp.put("/api/v1/conversations/<conversation_id>/active")
@require_role(Role.USER)
@policy()
@problems(404)
@validate_request(ActiveIn)
@validate_response(ConversationDetail)
async def set_active_branch(conversation_id: str, data: ActiveIn):
    """Show another branch (`{"leaf_id"}`, continued to its newest reply); the active path comes back."""
    return await container().chat.controller.set_active(g.principal, conversation_id, data)


@bp.get("/api/v1/conversations/<conversation_id>/messages/<message_id>/images/<index>")
@require_role(Role.USER)
@policy()
@answers(200, description="The image's bytes (`Content-Type` image/png, image/jpeg, image/webp, image/gif).",
         media="application/octet-stream")
@problems(404)
async def get_message_image(conversation_id: str, message_id: str, index: str):
    """Image `index` of a message of one of the caller's conversations; another user's is 404."""
    return await container().chat.controller.image(g.principal, conversation_id, message_id, index)


@bp.patch("/api/v1/conversations/<conversation_id>")
@require_role(Role.USER)
@policy(scope="chat")
@validate_request(RenameIn)
@validate_response(ConversationOut)
async def rename_conversation(conversation_id: str, data: RenameIn):
    """Rename one of the caller's conversations (`{"title"}`); another user's is 404."""
    return await container().chat.controller.rename(g.principal, conversation_id, data)


@bp.get("/api/v1/conversations/<conversation_id>/export")
@require_role(Role.USER)
@policy()
@answers(200, description="The active path as a Markdown (`format=md`) or JSON (`format=json`) attachment.",
         media=("text/markdown", "application/json"))
@problems(404)
@validate_querystring(ExportQuery)
async def export_conversation(conversation_id: str, query_args: ExportQuery):
    """Export one of the caller's conversations (its active path) as Markdown or JSON (contract §21)."""
    return await container().chat.controller.export(g.principal, conversation_id, query_args)


@bp.delete("/api/v1/conversations")
@require_role(Role.USER)
@policy()
async def delete_all_conversations():
    """Delete all of the caller's conversations and their messages (204)."""
    return await container().chat.controller.delete_all(g.principal)


@bp.delete("/api/v1/conversations/<conversation_id>")
@require_role(Role.USER)
@policy(scope="chat")
async def delete_conversation(conversation_id: str):
    """Delete one of the caller's conversations (204); another user's is 404."""
    return await container().chat.controller.delete(g.principal, conversation_id)
