"""The caller's own account (contract §3 `GET /api/v1/me`)."""

from __future__ import annotations

from typing import Any

from controllers.schemas.common import user_fields
from services.credits.service import CreditsService
from services.identity.users import User, UserService
from services.platform.principal import Principal


class MeController:
    """Account endpoints."""

    def __init__(self, users: UserService, credits: CreditsService) -> None:
        self._users, self._credits = users, credits

    async def me(self, principal: Principal, user: User | None = None) -> dict[str, Any]:
        """The caller's user record (as resolved by auth when given) with their credits object."""
        if user is None or user.id != principal.user_id:
            user = await self._users.get_or_raise(principal.require_user_id())
        summary = await self._credits.summary(user.id, plan=user.plan)
        return {**user_fields(user), "credits": summary}

    async def whoami(self, principal: Principal) -> dict[str, Any]:
        """Who the principal is (admin diagnostics)."""
        return {"user_id": principal.user_id, "kind": principal.kind, "role": principal.role.name}
