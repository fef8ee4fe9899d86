"""Admin user management: search, detail, role/plan/disabled changes and credit adjustments (audited)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from services.admin.ports import UserActivity, Users
from services.credits.ports import Credits
from services.identity.ports.users import User
from services.platform.errors import Conflict, NotFound, ValidationFailed
from services.platform.ports.audit import AuditLog
from services.platform.principal import Role

log = structlog.stdlib.get_logger("muse.admin")

DETAIL_ITEMS = 10


async def resolve_user(users: Users, ref: str) -> User:
    """A user by Muse id (`usr_…`) or by Clerk id (created just in time, like a first sign-in)."""
    if ref.startswith("usr_"):
        return await users.get_or_raise(ref)
    return await users.get_by_clerk_id(ref) or await users.ensure_clerk_user(ref)


class AdminService:
    """What an administrator can do to users; every change lands in the audit log."""

    def __init__(self, users: Users, audit: AuditLog, activity: UserActivity, *,
                 credits: Credits | None = None, plan_role: Callable[[str], str] | None = None) -> None:
        self._users, self._audit, self._activity = users, audit, activity
        self._credits, self._plan_role = credits, plan_role

    async def search_users(self, q: str | None, *, limit: int, cursor: str | None
                           ) -> tuple[list[User], str | None]:
        """Users matching `q` (id, Clerk id, email, name), newest first, and the next cursor."""
        rows = await self._users.search(q or None, limit + 1, cursor)
        page = rows[:limit]
        return page, page[-1].id if len(rows) > limit else None

    async def user_detail(self, user_id: str) -> dict[str, Any]:
        """The user with credits, recent ledger entries and recent generations."""
        user = await self._users.get_or_raise(user_id)
        credits = None
        if self._credits:
            await self._credits.settle()  # this process's charges are in the ledger before it is read
            credits = await self._credits.summary(user.id, plan=user.plan)
        return {
            "user": user,
            "credits": credits,
            "ledger": await self._activity.recent_ledger(user.id, limit=DETAIL_ITEMS),
            "generations": await self._activity.recent_generations(user.id, limit=DETAIL_ITEMS),
        }

    async def update_user(self, user_id: str, *, role: Role | None = None, plan: str | None = None,
                          disabled: bool | None = None, admin_id: str, request_id: str | None,
                          ip: str | None = None) -> User:
        """Change role, plan and/or the disabled flag; an admin cannot demote or disable themselves."""
        before = await self._users.get_or_raise(user_id)
        if user_id == admin_id and ((role is not None and role < Role.ADMIN) or disabled):
            raise Conflict("Administrators cannot demote or disable themselves.")
        user = before
        if plan is not None and plan != before.plan:
            plan_role = self._role_of(plan)
            user = await self._users.set_plan(user_id, plan, role=None if role is not None else plan_role)
        if role is not None and role != user.role:
            user = await self._users.set_role(user_id, role)
        if disabled is not None and disabled != user.disabled:
            user = await self._users.set_disabled(user_id, disabled)
        changed = _diff(before, user)
        if changed:
            await self._audit.record(actor_id=admin_id, action="user.update", target=user_id,
                                     before={k: v[0] for k, v in changed.items()},
                                     after={k: v[1] for k, v in changed.items()}, request_id=request_id,
                                     ip=ip)
            log.info("admin_user_updated", user_id=user_id, admin_id=admin_id,
                     changes={k: v[1] for k, v in changed.items()})
        return user

    async def adjust_credits(self, user_id: str, delta: int, *, reason: str, admin_id: str,
                             request_id: str | None, ip: str | None = None) -> dict[str, Any]:
        """Add (or take, not below zero) purchased-balance credits; ledger kind `admin_adjustment`."""
        if self._credits is None:
            raise NotFound("Credits are not available.")
        if delta == 0:
            raise ValidationFailed(errors=[{"loc": ["body", "delta"], "msg": "must not be zero"}])
        user = await self._users.get_or_raise(user_id)
        entry = await self._credits.adjust(user.id, delta, admin_id=admin_id, reason=reason,
                                           request_id=request_id)
        await self._audit.record(actor_id=admin_id, action="credits.adjust", target=user.id,
                                 before={}, after={"delta": delta, "reason": reason,
                                                   "entry_id": getattr(entry, "id", None)},
                                 request_id=request_id, ip=ip)
        return {"entry": entry, "credits": await self._credits.summary(user.id, plan=user.plan)}

    async def audit_entries(self, *, action: str | None, target: str | None, limit: int,
                            cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the audit log, newest first, and the next cursor."""
        rows = await self._audit.list(action=action, target=target, limit=limit + 1, cursor=cursor)
        page = rows[:limit]
        return page, page[-1]["id"] if len(rows) > limit else None

    def _role_of(self, plan: str) -> Role | None:
        if self._plan_role is None:
            return None
        try:
            return Role.parse(self._plan_role(plan))
        except NotFound as exc:
            error = {"loc": ["body", "plan"], "msg": f"unknown plan {plan!r}"}
            raise ValidationFailed(errors=[error]) from exc


def _diff(before: User, after: User) -> dict[str, tuple[Any, Any]]:
    out: dict[str, tuple[Any, Any]] = {}
    for field in ("role", "plan", "disabled"):
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            out[field] = (_plain(old), _plain(new))
    return out


def _plain(value: Any) -> Any:
    return value.name if isinstance(value, Role) else value
