"""The caller's conversations as a library (contract §21): search with snippets, pinned first,
rename and pin, export of the active path as Markdown or JSON, delete all."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from services.chat.conversations import ConversationService
from services.chat.ports import Conversation, StoredMessage
from services.platform.clock import isoformat
from services.platform.errors import NotFound

SNIPPET_CHARS = 160


@dataclass(frozen=True, slots=True)
class Listed:
    conversation: Conversation
    snippet: str | None = None  # search only: the text around the first match


@dataclass(frozen=True, slots=True)
class Export:
    body: str
    content_type: str
    filename: str


def snippet(text: str, query: str, *, size: int = SNIPPET_CHARS) -> str:
    """About `size` characters of `text` around the first of the query's words found in it."""
    flat = " ".join(text.split())
    words = [w for w in re.findall(r"\w+", query.lower()) if w]
    lowered = flat.lower()
    at = min((i for i in (lowered.find(w) for w in words) if i >= 0), default=0)
    start = max(0, at - size // 3)
    if start:
        start = flat.find(" ", start) + 1 or start  # from a word's start
    cut = flat[start:start + size]
    if start + size < len(flat):
        cut = cut.rsplit(" ", 1)[0] + "…"
    return ("…" if start else "") + cut


class ConversationLibrary:
    """Conversation listing, search, pin, export and delete-all over the conversation service's store."""

    def __init__(self, service: ConversationService) -> None:
        self.service = service
        self.conversations = service.conversations

    async def list(self, user_id: str, *, limit: int, cursor: str | None, q: str | None
                   ) -> tuple[list[Listed], str | None]:
        """A search (`q`: the best `limit` matches, newest activity first, no further page), else one
        page newest first with the pinned ones ahead of the first page."""
        if q is not None and q.strip():
            found = await self.conversations.search(owner_id=user_id, text=q.strip(), limit=limit)
            return [Listed(c, snippet(m.content if m else c.title, q)) for c, m in found], None
        pinned = [] if cursor else await self.conversations.list(owner_id=user_id, limit=100, cursor=None,
                                                                 pinned=True)
        items = await self.conversations.list(owner_id=user_id, limit=limit + 1, cursor=cursor, pinned=False)
        more = len(items) > limit
        items = items[:limit]
        return [Listed(c) for c in pinned + items], (items[-1].id if more and items else None)

    async def update(self, user_id: str, conversation_id: str, *, title: str | None,
                     pinned: bool | None) -> Conversation:
        """Rename and/or pin the owner's conversation; another user's is 404."""
        changes: dict[str, object] = {}
        if title is not None:
            changes["title"] = title
        if pinned is not None:
            changes["pinned"] = pinned
        conversation = (await self.conversations.update(conversation_id, owner_id=user_id, changes=changes)
                        if changes else await self.conversations.get(conversation_id, owner_id=user_id))
        if conversation is None:
            raise NotFound("No such conversation.")
        return conversation

    async def export(self, user_id: str, conversation_id: str, fmt: Literal["md", "json"]) -> Export:
        """The active path as a Markdown or JSON file."""
        conversation, tree = await self.service.get_conversation(user_id, conversation_id)
        path = [m for m in tree.path(tree.active_leaf(conversation.active_leaf_id)) if m.role != "system"]
        name = re.sub(r"[^\w-]+", "-", conversation.title.lower()).strip("-")[:60] or conversation.id
        if fmt == "json":
            body = json.dumps({
                "id": conversation.id, "title": conversation.title,
                "created_at": isoformat(conversation.created_at),
                "updated_at": isoformat(conversation.updated_at),
                "messages": [_exported(m, tree.parent_of(m.id)) for m in path]}, ensure_ascii=False, indent=2)
            return Export(body, "application/json; charset=utf-8", f"{name}.json")
        parts = [f"# {conversation.title}\n"]
        for m in path:
            who = "You" if m.role == "user" else f"Muse ({m.model})" if m.model else "Muse"
            parts.append(f"## {who} · {isoformat(m.created_at)}\n\n{m.content}\n")
        return Export("\n".join(parts), "text/markdown; charset=utf-8", f"{name}.md")

    async def delete_all(self, user_id: str) -> None:
        """Delete all the caller's conversations (and the images kept with them)."""
        images = self.service.images
        forms: list[dict[str, Any]] = []
        if images is not None:
            for listed in await self.conversations.list(owner_id=user_id, limit=10_000, cursor=None):
                forms += [f for m in await self.conversations.messages(listed.id) for f in m.images]
        await self.conversations.delete_all(owner_id=user_id)
        if forms and images is not None:
            await images.forget(forms)


def _exported(m: StoredMessage, parent: str | None) -> dict[str, Any]:
    return {"id": m.id, "parent_id": parent, "role": m.role, "content": m.content, "model": m.model,
            "provider": m.provider, "status": m.status, "created_at": isoformat(m.created_at)}
