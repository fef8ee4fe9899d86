"""Conversations and messages in MongoDB (Beanie 2)."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, cast

from pydantic import Field
from pymongo import ASCENDING, DESCENDING, TEXT, IndexModel, ReturnDocument
from pymongo.errors import OperationFailure

from repositories.documents import MuseDocument
from services.chat.options import ToolCall
from services.chat.ports import Conversation, MessageRole, StoredMessage
from services.platform.clock import utcnow
from services.platform.ids import new_id


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class ConversationDocument(MuseDocument):
    id: str = Field(default_factory=lambda: new_id("cnv"))  # type: ignore[assignment]  # our ids are strings
    owner_id: str
    title: str
    message_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Activity order is kept as epoch ms: nx-27017 returns a `$set` datetime as a string.
    updated_ms: int = Field(default_factory=lambda: _ms(utcnow()))
    active_leaf_id: str | None = None  # None (also every conversation stored before branches): the newest
    pinned: bool = False

    class Settings:
        name = "conversations"
        indexes = [IndexModel([("owner_id", ASCENDING), ("updated_ms", DESCENDING)])]  # text: see below

    def to_domain(self) -> Conversation:
        return Conversation(id=self.id, owner_id=self.owner_id, title=self.title, created_at=self.created_at,
                            updated_at=self.updated_at, message_count=self.message_count,
                            active_leaf_id=self.active_leaf_id, pinned=self.pinned)


# The search indexes (contract §21), created apart from Beanie's list: nx-27017 (the embedded
# development server) does not list text indexes, so Beanie would create them again at every start,
# and creating one again over stored documents fails there ("constraint failed"): a second process
# (a worker beside `make run`, a restart) could not start. MongoDB itself answers an existing
# identical index as a no-op.
TEXT_INDEXES = (("conversations", "title", "title_text"), ("messages", "content", "content_text"))


async def ensure_text_indexes(db: Any) -> None:
    """Create the search indexes, leaving one that exists as it is."""
    for collection, field, name in TEXT_INDEXES:
        try:
            await db[collection].create_index([(field, TEXT)], name=name)
        except OperationFailure as exc:
            if "constraint failed" not in str(exc):  # nx-27017's answer for an index it already has
                raise

class MessageDocument(MuseDocument):
    id: str = Field(default_factory=lambda: new_id("msg"))  # type: ignore[assignment]  # our ids are strings
    conversation_id: str
    position: int = 0
    role: str
    content: str
    provider: str | None = None
    model: str | None = None
    cached: bool = False
    credits_charged: int = 0
    request_id: str | None = None
    status: str = "complete"
    created_at: datetime = Field(default_factory=utcnow)
    tool_calls: list[dict[str, str]] = Field(default_factory=list)  # {"id", "name", "arguments"}
    tool_call_id: str | None = None
    name: str | None = None
    images: list[dict[str, Any]] = Field(default_factory=list)  # references, never bytes
    parent_id: str | None = None  # "": a first message; None: stored before branches (services/chat/tree.py)

    class Settings:
        name = "messages"
        indexes = [IndexModel([("conversation_id", ASCENDING), ("position", ASCENDING)])]  # text: see below

    def to_domain(self) -> StoredMessage:
        return StoredMessage(
            id=self.id, conversation_id=self.conversation_id, role=cast(MessageRole, self.role),
            content=self.content, created_at=self.created_at, provider=self.provider, model=self.model,
            cached=self.cached, credits_charged=self.credits_charged, request_id=self.request_id,
            status=self.status, images=list(self.images), parent_id=self.parent_id,
            tool_call_id=self.tool_call_id, name=self.name,
            tool_calls=tuple(ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"])
                             for c in self.tool_calls))


class BeanieConversationRepository:
    """`ConversationRepository` on MongoDB."""

    async def create(self, *, owner_id: str, title: str, conversation_id: str | None = None,
                     messages: list[StoredMessage] | None = None) -> Conversation:
        """A new conversation, with its first messages when given (two writes, no update)."""
        messages = messages or []
        doc = ConversationDocument(owner_id=owner_id, title=title, message_count=len(messages),
                                   active_leaf_id=messages[-1].id if messages else None)
        if conversation_id:
            doc.id = conversation_id
        await doc.insert_fields()
        await self._insert(doc.id, messages, first=0)
        return doc.to_domain()

    async def get(self, conversation_id: str, *, owner_id: str) -> Conversation | None:
        """The owner's conversation, or None."""
        doc = await ConversationDocument.find_one({"_id": conversation_id, "owner_id": owner_id})
        return doc.to_domain() if doc else None

    async def list(self, *, owner_id: str, limit: int, cursor: str | None,
                   pinned: bool | None = None) -> builtins.list[Conversation]:
        """Newest activity first (`updated_ms`, then id), keyset-paginated after the cursor's conversation;
        only the pinned ones (True) or only the others (False) when `pinned` is given."""
        query: dict = {"owner_id": owner_id}
        if pinned is not None:
            query["pinned"] = True if pinned else {"$ne": True}
        if cursor:
            after = await ConversationDocument.find_one({"_id": cursor, "owner_id": owner_id})
            ms = after.updated_ms if after else 0
            query = {"$and": [dict(query), {"$or": [
                {"updated_ms": {"$lt": ms}}, {"updated_ms": ms, "_id": {"$lt": cursor}}]}]}
        docs = await ConversationDocument.find(query).sort(
            [("updated_ms", DESCENDING), ("_id", DESCENDING)]).limit(limit).to_list()  # type: ignore[list-item]
        return [d.to_domain() for d in docs]

    async def rename(self, conversation_id: str, *, owner_id: str, title: str) -> Conversation | None:
        """Set the owner's conversation title (activity order unchanged); None when not found."""
        updated = await ConversationDocument.get_pymongo_collection().find_one_and_update(
            {"_id": conversation_id, "owner_id": owner_id}, {"$set": {"title": title}},
            return_document=ReturnDocument.AFTER)
        return await self.get(conversation_id, owner_id=owner_id) if updated else None

    async def messages(self, conversation_id: str, *, limit: int | None = None
                       ) -> builtins.list[StoredMessage]:
        """Oldest first (the newest `limit` when given)."""
        find = MessageDocument.find({"conversation_id": conversation_id})
        if limit:
            docs = await find.sort([("position", DESCENDING)]).limit(limit).to_list()  # type: ignore[list-item]
            docs.reverse()
        else:
            docs = await find.sort([("position", ASCENDING)]).to_list()  # type: ignore[list-item]
        return [d.to_domain() for d in docs]

    async def append(self, conversation_id: str, messages: builtins.list[StoredMessage]) -> None:
        """Insert the messages and bump the conversation."""
        if not messages:
            return
        now = utcnow()
        # Reserve positions atomically so concurrent appends never interleave within a turn.
        updated = await ConversationDocument.get_pymongo_collection().find_one_and_update(
            {"_id": conversation_id},
            {"$inc": {"message_count": len(messages)},
             "$set": {"updated_at": now, "updated_ms": _ms(now), "active_leaf_id": messages[-1].id}},
            return_document=ReturnDocument.AFTER)
        first = (updated or {}).get("message_count", len(messages)) - len(messages)
        await self._insert(conversation_id, messages, first=first)

    @staticmethod
    async def _insert(conversation_id: str, messages: builtins.list[StoredMessage], *, first: int) -> None:
        if not messages:
            return
        await MessageDocument.insert_all([
            MessageDocument(
                id=m.id, conversation_id=conversation_id, position=first + i, role=m.role, content=m.content,
                provider=m.provider, model=m.model, cached=m.cached, credits_charged=m.credits_charged,
                request_id=m.request_id, status=m.status, created_at=m.created_at, images=m.images,
                parent_id=m.parent_id,
                tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments} for c in m.tool_calls],
                tool_call_id=m.tool_call_id, name=m.name)
            for i, m in enumerate(messages)])

    async def update(self, conversation_id: str, *, owner_id: str, changes: dict[str, object]
                     ) -> Conversation | None:
        """Set `title` and/or `pinned` (activity order unchanged); None when not found."""
        updated = await ConversationDocument.get_pymongo_collection().find_one_and_update(
            {"_id": conversation_id, "owner_id": owner_id}, {"$set": changes},
            return_document=ReturnDocument.AFTER)
        return await self.get(conversation_id, owner_id=owner_id) if updated else None

    async def search(self, *, owner_id: str, text: str, limit: int
                     ) -> builtins.list[tuple[Conversation, StoredMessage | None]]:
        """The owner's conversations whose title or a message matches `text` (the text indexes),
        newest activity first, each with its best-matching message (None: the title matched)."""
        mine = await ConversationDocument.get_pymongo_collection().find(
            {"owner_id": owner_id}, {"_id": 1}).to_list()
        ids = [d["_id"] for d in mine]
        if not ids:
            return []
        best: dict[str, StoredMessage] = {}
        hits = await MessageDocument.find(
            {"$text": {"$search": text}, "conversation_id": {"$in": ids}}).to_list()
        for hit in hits:
            best.setdefault(hit.conversation_id, hit.to_domain())
        titled = await ConversationDocument.get_pymongo_collection().find(
            {"owner_id": owner_id, "$text": {"$search": text}}, {"_id": 1}).to_list()
        found = set(best) | {d["_id"] for d in titled}
        docs = await ConversationDocument.find({"_id": {"$in": sorted(found)}, "owner_id": owner_id}).sort(
            [("updated_ms", DESCENDING), ("_id", DESCENDING)]).limit(limit).to_list()  # type: ignore[list-item]
        return [(d.to_domain(), best.get(d.id)) for d in docs]

    async def delete_all(self, *, owner_id: str) -> builtins.list[str]:
        """Delete every conversation of the owner and their messages; the ids deleted."""
        mine = await ConversationDocument.get_pymongo_collection().find(
            {"owner_id": owner_id}, {"_id": 1}).to_list()
        ids = [d["_id"] for d in mine]
        if ids:
            await ConversationDocument.get_pymongo_collection().delete_many(
                {"_id": {"$in": ids}, "owner_id": owner_id})
            await MessageDocument.get_pymongo_collection().delete_many({"conversation_id": {"$in": ids}})
        return ids

    async def set_active(self, conversation_id: str, *, owner_id: str, leaf_id: str) -> bool:
        """Make `leaf_id` the active leaf (activity order unchanged); False when not found."""
        result = await ConversationDocument.get_pymongo_collection().update_one(
            {"_id": conversation_id, "owner_id": owner_id}, {"$set": {"active_leaf_id": leaf_id}})
        return result.matched_count > 0

    async def delete(self, conversation_id: str, *, owner_id: str) -> bool:
        """Delete the conversation and its messages."""
        result = await ConversationDocument.find_one({"_id": conversation_id, "owner_id": owner_id}).delete()
        if not result or not result.deleted_count:
            return False
        await MessageDocument.find({"conversation_id": conversation_id}).delete()
        return True
