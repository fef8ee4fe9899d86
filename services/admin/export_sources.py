"""What goes into a data export (contract §20): each file of the archive as pages of the user's
records, read one page at a time (`PAGE` records), never the whole account at once.

- profile.json: the user record (id, email, name, role, plan, dates) and the credit balance;
- conversations.json: every conversation with all its messages (every branch: `parent_id`);
- images.json: images and videos (expired ones too) with their media URLs;
- ledger.json: every ledger entry; payments.json: credit-pack payments and subscriptions;
- api_keys.json: the keys' public records (no secret, no hash: the store never keeps the secret).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import BaseModel

from services.admin.ports import Paged

PAGE = 100
# Never in an export: secrets and what identifies a stored file inside Muse's storage.
HIDDEN = frozenset({"key_hash", "hash", "secret", "key", "poster_key", "worker", "clerk_id"})

Rows = Callable[[], AsyncIterator[dict[str, Any]]]


def plain(record: Any) -> dict[str, Any]:
    """A record as a JSON-ready dict, without the hidden fields (at any depth)."""
    if isinstance(record, BaseModel):
        data = record.model_dump(mode="json")
    elif dataclasses.is_dataclass(record) and not isinstance(record, type):
        data = dataclasses.asdict(record)
    else:
        data = dict(record)
    scrubbed: dict[str, Any] = _scrub(data)
    return scrubbed


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in HIDDEN}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


class AccountSources:
    """The export's sections over the domain services (wired in app/wiring/admin.py)."""

    def __init__(self, *, profile: Callable[[str], Any], conversations: Paged,
                 conversation_messages: Callable[[str, str], Any], media: list[Paged], ledger: Paged,
                 payments: Paged, subscriptions: Callable[[str], Any],
                 api_keys: Callable[[str], Any]) -> None:
        self._profile, self._conversations, self._messages = profile, conversations, conversation_messages
        self._media, self._ledger, self._payments = media, ledger, payments
        self._subscriptions, self._keys = subscriptions, api_keys

    def sections(self, user_id: str) -> list[tuple[str, Rows]]:
        """(file name, its rows) in archive order."""
        return [("profile.json", lambda: self._profile_rows(user_id)),
                ("conversations.json", lambda: self._conversation_rows(user_id)),
                ("images.json", lambda: self._media_rows(user_id)),
                ("ledger.json", lambda: _pages(self._ledger, user_id)),
                ("payments.json", lambda: self._payment_rows(user_id)),
                ("api_keys.json", lambda: self._key_rows(user_id))]

    async def _profile_rows(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        yield plain(await self._profile(user_id))

    async def _conversation_rows(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        async for conversation in _pages(self._conversations, user_id):
            messages = await self._messages(user_id, conversation["id"])
            yield {**conversation, "messages": [plain(m) for m in messages]}

    async def _media_rows(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        for records in self._media:
            for status in (None, "expired"):  # the default list leaves expired records out
                async for row in _pages(records, user_id, status=status):
                    yield row

    async def _payment_rows(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        async for row in _pages(self._payments, user_id):
            yield {"type": "payment", **row}
        for sub in await self._subscriptions(user_id):
            yield {"type": "subscription", **plain(sub)}

    async def _key_rows(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        for key in await self._keys(user_id):
            yield plain(key)


async def _pages(source: Any, user_id: str, **extra: Any) -> AsyncIterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        page, cursor = await source(user_id, limit=PAGE, cursor=cursor, **extra)
        for record in page:
            yield plain(record)
        if not cursor or not page:
            return
