"""Admin user management and stats: HTTP ⇄ AdminService / AdminStatsService."""

from __future__ import annotations

from typing import Any

from controllers.admin_settings import actor_ip, admin_id
from controllers.schemas.admin import CreditAdjustment, UserPatch, UserQuery
from controllers.schemas.common import ADMIN_LEDGER_FIELDS, entry_out, user_fields
from middlewares.request_id import current_request_id
from services.admin.service import AdminService
from services.admin.stats import AdminStatsService
from services.identity.users import User
from services.platform.clock import isoformat
from services.platform.principal import Role


def user_body(user: User) -> dict[str, Any]:
    """The admin view of a user."""
    return {**user_fields(user), "disabled": user.disabled, "updated_at": isoformat(user.updated_at)}


def ledger_body(entry: Any) -> dict[str, Any]:
    """A ledger entry (dataclass or stored document) as JSON, with the adjusting admin's id."""
    return entry_out(entry, fields=ADMIN_LEDGER_FIELDS)


def generation_body(item: dict[str, Any]) -> dict[str, Any]:
    """A recent generation (image job or chat answer) as JSON."""
    out = dict(item)
    out["created_at"] = isoformat(out.get("created_at"))
    if out.get("prompt") and len(out["prompt"]) > 200:
        out["prompt"] = out["prompt"][:200] + "…"
    return out


class AdminUsersController:
    def __init__(self, admin: AdminService, stats: AdminStatsService) -> None:
        self._admin, self._stats = admin, stats

    async def search(self, query: UserQuery) -> dict[str, Any]:
        """A page of users matching `q`."""
        users, cursor = await self._admin.search_users(query.q, limit=query.limit, cursor=query.cursor)
        return {"items": [user_body(u) for u in users], "next_cursor": cursor}

    async def detail(self, user_id: str) -> dict[str, Any]:
        """One user with credits, recent ledger and recent generations."""
        detail = await self._admin.user_detail(user_id)
        return {**user_body(detail["user"]), "credits": detail["credits"],
                "ledger": [ledger_body(e) for e in detail["ledger"]],
                "generations": [generation_body(g) for g in detail["generations"]]}

    async def update(self, user_id: str, patch: UserPatch) -> dict[str, Any]:
        """Change role / plan / disabled (audited)."""
        user = await self._admin.update_user(
            user_id, role=Role.parse(patch.role) if patch.role else None, plan=patch.plan,
            disabled=patch.disabled, admin_id=admin_id(), request_id=current_request_id(), ip=actor_ip())
        return user_body(user)

    async def adjust_credits(self, user_id: str, body: CreditAdjustment) -> dict[str, Any]:
        """An `admin_adjustment` ledger entry carrying the admin's id."""
        result = await self._admin.adjust_credits(user_id, body.delta, reason=body.reason,
                                                  admin_id=admin_id(), request_id=current_request_id(),
                                                  ip=actor_ip())
        return {"entry": ledger_body(result["entry"]), "credits": result["credits"]}

    async def stats(self) -> dict[str, Any]:
        """The stats document."""
        return await self._stats.stats()
