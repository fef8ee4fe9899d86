"""Stored `/v1/responses` answers (contract §12): kept per user for `previous_response_id`, GET and DELETE.

The Responses API itself is a translation at the edge (controllers/openai_responses.py) onto the
one chat path; this service only keeps what `store` asked to keep, each response visible to its
owner alone (another user's id is simply not found).
"""

from __future__ import annotations

from services.chat.ports import ResponseStore, StoredResponse
from services.platform.errors import NotFound


class ResponseNotFound(NotFound):
    """No stored response of the caller has this id."""

    def __init__(self, response_id: str, *, param: str | None = None) -> None:
        detail = f"No response with id {response_id!r} was found."
        if param:
            super().__init__(detail, param=param)
        else:
            super().__init__(detail)


class ResponseLog:
    """The caller's stored responses."""

    def __init__(self, store: ResponseStore) -> None:
        self._store = store

    async def keep(self, response: StoredResponse) -> None:
        """Store an answer (`store` was not false)."""
        await self._store.insert(response)

    async def get(self, user_id: str, response_id: str, *, param: str | None = None) -> StoredResponse:
        """The caller's response, else `ResponseNotFound` (naming `param` when it came from a field)."""
        found = await self._store.get(response_id, user_id=user_id)
        if found is None:
            raise ResponseNotFound(response_id, param=param)
        return found

    async def delete(self, user_id: str, response_id: str) -> None:
        """Delete the caller's response, else `ResponseNotFound`."""
        if not await self._store.delete(response_id, user_id=user_id):
            raise ResponseNotFound(response_id)

    async def delete_all(self, user_id: str) -> int:
        """Delete every stored response of the user (account deletion); how many there were."""
        return await self._store.delete_all(user_id)
