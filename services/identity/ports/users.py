"""The users' storage port and the user record."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from services.platform.principal import Role


class User(BaseModel):
    """A Muse user (mirrors a Clerk user, or a marketplace caller); immutable, so one parsed copy of a
    cached entry can serve every request that finds it (repositories/users.py)."""

    model_config = ConfigDict(frozen=True)

    id: str
    clerk_id: str
    email: str | None = None
    name: str | None = None
    image_url: str | None = None
    role: Role = Role.USER
    plan: str = "free"
    disabled: bool = False
    deleted: bool = False  # deleted at Clerk: terminal, personal fields are never written again
    created_at: datetime
    updated_at: datetime


class UserRepository(Protocol):
    """Storage of users."""

    async def get(self, user_id: str) -> User | None: ...

    async def get_by_clerk_id(self, clerk_id: str) -> User | None: ...

    async def upsert_by_clerk_id(
        self, clerk_id: str, *, on_insert: dict[str, Any], on_update: dict[str, Any]
    ) -> tuple[User, bool]:
        """Create or update the user of `clerk_id`; a `deleted` user is returned unchanged."""
        ...

    async def update(self, user_id: str, fields: dict[str, Any]) -> User | None: ...

    async def search(self, q: str | None, *, limit: int, cursor: str | None) -> list[User]: ...
