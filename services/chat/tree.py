"""A conversation's messages as a tree (contract §21): each message continues from its parent.

Stored parents: `""` for a first message, an id otherwise, and None for a message stored before
conversations branched: its parent is the message before it (by position), so an old conversation
reads as the one line it was. The active path runs from a first message to the conversation's
active leaf (the newest message when none was chosen).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.chat.ports import StoredMessage
from services.platform.errors import Conflict, NotFound


class Tree:
    """Parents, children and paths of one conversation's messages (given oldest first)."""

    def __init__(self, messages: Sequence[StoredMessage]) -> None:
        self.messages = list(messages)
        self.by_id = {m.id: m for m in self.messages}
        self.parent: dict[str, str | None] = {}
        self.children: dict[str | None, list[str]] = {}
        previous: str | None = None
        for m in self.messages:
            stored = m.parent_id
            parent = (stored or None) if stored is not None else previous
            self.parent[m.id] = parent
            self.children.setdefault(parent, []).append(m.id)
            previous = m.id

    def __contains__(self, message_id: object) -> bool:
        return message_id in self.by_id

    def parent_of(self, message_id: str) -> str | None:
        return self.parent.get(message_id)

    def siblings(self, message_id: str) -> list[str]:
        """The alternatives at this message's place (itself included), oldest first."""
        return list(self.children.get(self.parent.get(message_id), [message_id]))

    def newest_leaf(self, message_id: str) -> str:
        """Down from `message_id` along the newest reply at each step, to a message without replies."""
        current = message_id
        while self.children.get(current):
            current = self.children[current][-1]
        return current

    def active_leaf(self, chosen: str | None) -> str | None:
        """The leaf of the active path: the chosen one (continued to its newest leaf), else the newest."""
        if chosen and chosen in self.by_id:
            return self.newest_leaf(chosen)
        return self.messages[-1].id if self.messages else None

    def path(self, leaf: str | None) -> list[StoredMessage]:
        """The messages from the first one down to `leaf` (empty for None)."""
        out: list[StoredMessage] = []
        seen: set[str] = set()
        current = leaf
        while current and current in self.by_id and current not in seen:
            seen.add(current)
            out.append(self.by_id[current])
            current = self.parent.get(current)
        out.reverse()
        return out

    def anchor(self, *, regenerate: str | None, parent_id: str | None,
               active_leaf_id: str | None) -> str | None:
        """What new turns continue from: a regenerated answer's question, the named parent, or the
        active leaf. 404 for a message not in the conversation (a state, not a malformed request), 409
        for regenerating a message that is not an answer; each naming the field."""
        if regenerate is not None:
            answer = self.by_id.get(regenerate)
            if answer is None:
                raise NotFound("No such message in this conversation.")
            if answer.role != "assistant":
                raise Conflict("Only an assistant's answer can be regenerated.", errors=[
                    {"loc": ["path", "message_id"], "msg": "not an assistant message"}])
            return self.parent_of(answer.id)
        if parent_id == "":  # a new first message
            return None
        if parent_id is not None:
            if parent_id not in self:
                raise NotFound("No such message in this conversation.", errors=[
                    {"loc": ["body", "parent_id"], "msg": "no such message in this conversation"}])
            return parent_id
        return self.active_leaf(active_leaf_id)
