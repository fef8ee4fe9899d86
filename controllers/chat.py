"""Chat and conversation endpoints (contract §4): DTOs in, JSON or SSE out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from quart import Response

from controllers.chat_fields import check_options, muse_fail
from controllers.schemas.chat import (
    ActiveIn,
    ChatIn,
    ExportQuery,
    ListQuery,
    RegenerateIn,
    RenameIn,
)
from controllers.schemas.chat_options import to_options, tool_calls_of
from controllers.sse import sse, stream_response
from services.chat.content import parse_content, part_error
from services.chat.conversations import ConversationService
from services.chat.library import ConversationLibrary
from services.chat.models import ChatInput
from services.chat.ports import Conversation, StoredMessage
from services.chat.service import ChatService
from services.chat.stream import ChatStreamService
from services.chat.tree import Tree
from services.platform.clock import isoformat
from services.platform.errors import AppError, NotFound
from services.platform.principal import Principal

RenderProblem = Callable[[AppError, str | None], dict[str, Any]]  # (error, request id) → problem body


def _conversation(c: Conversation) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "message_count": c.message_count,
            "created_at": isoformat(c.created_at), "updated_at": isoformat(c.updated_at), "pinned": c.pinned}


def _message(m: StoredMessage, tree: Tree) -> dict[str, Any]:
    images = [{"url": f"/api/v1/conversations/{m.conversation_id}/messages/{m.id}/images/{index}",
               "content_type": form.get("mime") or "application/octet-stream",
               "image_id": form.get("image_id")}
              for index, form in enumerate(m.images)]
    out: dict[str, Any] = {
        "id": m.id, "role": m.role, "content": m.content, "images": images, "provider": m.provider,
        "model": m.model, "cached": m.cached, "status": m.status, "created_at": isoformat(m.created_at),
        "parent_id": tree.parent_of(m.id), "siblings": tree.siblings(m.id)}
    if m.tool_calls:
        out["tool_calls"] = [call.as_dict() for call in m.tool_calls]
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    return out


def _detail(conversation: Conversation, tree: Tree) -> dict[str, Any]:
    """The conversation with its active path (contract §21)."""
    leaf = tree.active_leaf(conversation.active_leaf_id)
    return {**_conversation(conversation), "active_leaf_id": leaf,
            "messages": [_message(m, tree) for m in tree.path(leaf)]}


class ChatController:
    """HTTP ⇄ ChatService, ConversationService and ConversationLibrary."""

    def __init__(self, chat: ChatService, streams: ChatStreamService, *, conversations: ConversationService,
                 library: ConversationLibrary, render_problem: RenderProblem) -> None:
        self._chat = chat
        self._conversations = conversations
        self._library = library
        self._streams = streams
        self._render_problem = render_problem

    async def _input(self, body: ChatIn, principal: Principal, request_id: str) -> ChatInput:
        turns = []
        for index, m in enumerate(body.messages):
            parsed = parse_content(m.content, ("messages", index, "content"), openai=False, muse_ids=True)
            if not parsed.text.strip() and not parsed.images and not m.tool_calls:
                raise part_error(("messages", index, "content"), "a message needs some text or an image.",
                                 openai=False)
            turns.append((m.role, parsed))
        read = await self._chat.read_messages(turns, user_id=principal.require_user_id(), openai=False)
        calls = [tool_calls_of(m.tool_calls) for m in body.messages]
        names = {call.id: call.name for made in calls for call in made}
        messages = [replace(message, tool_calls=made, tool_call_id=m.tool_call_id,
                            name=names.get(m.tool_call_id or ""))
                    for message, made, m in zip(read, calls, body.messages, strict=True)]
        options = to_options(body)
        # a tool turn may answer a call of the stored conversation: its pairing is checked only without one
        check_options(options, messages if body.conversation_id is None else [], muse_fail)
        return ChatInput(
            user_id=principal.require_user_id(), plan=principal.plan, messages=messages,
            conversation_id=body.conversation_id, model=body.model, temperature=body.temperature,
            store=body.store, request_id=request_id, role=principal.role, parent_id=body.parent_id,
            max_tokens=body.max_tokens, options=options)

    async def chat(self, body: ChatIn, principal: Principal, request_id: str) -> Any:
        """JSON answer, or an SSE stream when `stream` is true."""
        return await self._answer(await self._input(body, principal, request_id), stream=body.stream)

    async def regenerate(self, principal: Principal, conversation_id: str, message_id: str,
                         body: RegenerateIn, request_id: str) -> Any:
        """Answer an assistant message's question again: a new sibling, charged, the cache not read."""
        inp = ChatInput(user_id=principal.require_user_id(), plan=principal.plan, messages=[],
                        conversation_id=conversation_id, model=body.model, temperature=body.temperature,
                        request_id=request_id, role=principal.role, regenerate=message_id)
        return await self._answer(inp, stream=body.stream)

    async def _answer(self, inp: ChatInput, *, stream: bool) -> Any:
        if stream:
            return await self._stream(inp)
        reply = await self._chat.complete(inp)
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            message["tool_calls"] = [call.as_dict() for call in reply.tool_calls]
        return {"id": reply.id, "conversation_id": reply.conversation_id, "message": message,
                "provider": reply.provider, "model": reply.model, "cached": reply.cached,
                "credits_charged": reply.credits_charged, "request_id": reply.request_id,
                "finish_reason": reply.finish_reason}

    async def _stream(self, inp: ChatInput) -> Response:
        meta, events = await self._streams.stream(inp)
        render, request_id = self._render_problem, inp.request_id

        async def body() -> AsyncIterator[bytes]:
            yield sse("meta", meta)
            async for name, data in events:
                if isinstance(data, AppError):
                    yield sse("error", render(data, request_id))
                else:
                    yield sse(name, data)

        return stream_response(body())

    async def list(self, principal: Principal, query: ListQuery) -> dict[str, Any]:
        """A page of the caller's conversations (pinned first), or the matches of a search."""
        items, cursor = await self._library.list(principal.require_user_id(), limit=query.limit,
                                                 cursor=query.cursor, q=query.q)
        return {"items": [{**_conversation(i.conversation), **({"snippet": i.snippet} if i.snippet else {})}
                          for i in items], "next_cursor": cursor}

    async def export(self, principal: Principal, conversation_id: str, query: ExportQuery) -> Response:
        """The active path as a Markdown or JSON attachment."""
        export = await self._library.export(principal.require_user_id(), conversation_id, query.format)
        response = Response(export.body, content_type=export.content_type)
        response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response

    async def delete_all(self, principal: Principal) -> tuple[str, int]:
        """Delete all the caller's conversations."""
        await self._library.delete_all(principal.require_user_id())
        return "", 204

    async def get(self, principal: Principal, conversation_id: str) -> dict[str, Any]:
        """One conversation with its active path."""
        user_id = principal.require_user_id()
        return _detail(*await self._conversations.get_conversation(user_id, conversation_id))

    async def set_active(self, principal: Principal, conversation_id: str, body: ActiveIn) -> dict[str, Any]:
        """Show another branch."""
        user_id = principal.require_user_id()
        return _detail(*await self._conversations.set_active(user_id, conversation_id, body.leaf_id))

    async def rename(self, principal: Principal, conversation_id: str, body: RenameIn) -> dict[str, Any]:
        """Rename and/or pin one conversation."""
        conversation = await self._library.update(principal.require_user_id(), conversation_id,
                                                  title=body.title.strip() if body.title else None,
                                                  pinned=body.pinned)
        return _conversation(conversation)

    async def image(self, principal: Principal, conversation_id: str, message_id: str,
                    index: str) -> Response:
        """The bytes of image `index` (0, 1…) of a stored message (the owner's only)."""
        if not (index.isascii() and index.isdigit()) or len(index) > 3:  # "³".isdigit() is True
            raise NotFound("No such image in this conversation.")
        data, mime = await self._conversations.message_image(principal.require_user_id(), conversation_id,
                                                             message_id, int(index))
        response = Response(data, content_type=mime)
        response.headers["Cache-Control"] = "private, max-age=3600"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    async def delete(self, principal: Principal, conversation_id: str) -> tuple[str, int]:
        """Delete one conversation."""
        await self._conversations.delete_conversation(principal.require_user_id(), conversation_id)
        return "", 204
