"""The owner's stored conversations (contract §4, §21): one page, one with its message tree, the
branch shown, delete, and the images kept in messages. The chat service writes them
(services/chat/service.py); the library searches, pins and exports them (services/chat/library.py)."""

from __future__ import annotations

from typing import Any

from services.chat.images import ChatImages
from services.chat.ports import Conversation, ConversationRepository
from services.chat.tree import Tree
from services.platform.errors import NotFound


class ConversationService:
    """Reading and managing the caller's conversations; another user's is always 404."""

    def __init__(self, conversations: ConversationRepository, images: ChatImages | None = None) -> None:
        self.conversations = conversations
        self.images = images  # images kept in messages (None: text only)

    async def list_conversations(self, user_id: str, *, limit: int, cursor: str | None
                                 ) -> tuple[list[Conversation], str | None]:
        """One page, newest first, and the next cursor."""
        items = await self.conversations.list(owner_id=user_id, limit=limit + 1, cursor=cursor)
        more = len(items) > limit
        items = items[:limit]
        return items, (items[-1].id if more and items else None)

    async def get_conversation(self, user_id: str, conversation_id: str) -> tuple[Conversation, Tree]:
        """The owner's conversation with its message tree; another user's is 404."""
        conversation = await self.conversations.get(conversation_id, owner_id=user_id)
        if conversation is None:
            raise NotFound("No such conversation.")
        return conversation, Tree(await self.conversations.messages(conversation.id))

    async def set_active(self, user_id: str, conversation_id: str, leaf_id: str) -> tuple[Conversation, Tree]:
        """Show the branch through `leaf_id` (continued to its newest leaf); 404 for a message not in it."""
        conversation, tree = await self.get_conversation(user_id, conversation_id)
        if leaf_id not in tree:
            raise NotFound("No such message in this conversation.", errors=[
                {"loc": ["body", "leaf_id"], "msg": "no such message in this conversation"}])
        leaf = tree.newest_leaf(leaf_id)
        if not await self.conversations.set_active(conversation_id, owner_id=user_id, leaf_id=leaf):
            raise NotFound("No such conversation.")
        conversation.active_leaf_id = leaf
        return conversation, tree

    async def delete_conversation(self, user_id: str, conversation_id: str) -> None:
        """Delete the owner's conversation (and the images kept with it); another user's is 404."""
        forms: list[dict[str, Any]] = []
        if self.images is not None and await self.conversations.get(conversation_id, owner_id=user_id):
            forms = [f for m in await self.conversations.messages(conversation_id) for f in m.images]
        if not await self.conversations.delete(conversation_id, owner_id=user_id):
            raise NotFound("No such conversation.")
        if forms and self.images is not None:
            await self.images.forget(forms)

    async def message_image(self, user_id: str, conversation_id: str, message_id: str,
                            index: int) -> tuple[bytes, str]:
        """(bytes, type) of image `index` of a message of the owner's conversation; 404 otherwise."""
        _conversation, tree = await self.get_conversation(user_id, conversation_id)
        message = tree.by_id.get(message_id)
        if message is None or not 0 <= index < len(message.images) or self.images is None:
            raise NotFound("No such image in this conversation.")
        form = message.images[index]
        data = await self.images.read(form, user_id=user_id)
        if data is None:
            raise NotFound("This image is no longer available (it was deleted).")
        return data, str(form.get("mime") or "application/octet-stream")
