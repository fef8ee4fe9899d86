"""Admin API (contract §9): live settings, audit log, users, stats. Everything needs ADMIN."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import validate_querystring, validate_request, validate_response

from app.openapi import answers, problems
from app.routes.deps import container
from controllers.schemas.admin import (
    AdminUserDetail,
    AdminUserOut,
    AuditPage,
    AuditQuery,
    CreditAdjustment,
    CreditAdjustmentOut,
    LiveSettingsOut,
    LiveSettingsPatch,
    StatsOut,
    UserPage,
    UserPatch,
    UserQuery,
)
from controllers.schemas.identity import AccountDeletedOut
from middlewares.access import require_role
from middlewares.policy import policy
from services.platform.principal import Role

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")


@bp.get("/settings")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_response(LiveSettingsOut)
async def get_settings():
    """The live settings: maintenance mode, feature and provider switches, signup credits."""
    return await container().admin.settings_controller.get()


@bp.patch("/settings")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_request(LiveSettingsPatch)
@validate_response(LiveSettingsOut)
async def patch_settings(data: LiveSettingsPatch):
    """Change some live settings; applies in every process within 5 s and is audited."""
    return await container().admin.settings_controller.update(data)


@bp.get("/audit-log")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_querystring(AuditQuery)
@validate_response(AuditPage)
async def audit_log(query_args: AuditQuery):
    """Administrative changes, newest first (filter by `action` or `target`)."""
    return await container().admin.settings_controller.audit_log(query_args)


@bp.get("/users")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_querystring(UserQuery)
@validate_response(UserPage)
async def list_users(query_args: UserQuery):
    """Search users by id, Clerk id, email or name (`q`), newest first, paginated."""
    return await container().admin.users_controller.search(query_args)


@bp.get("/users/<user_id>")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_response(AdminUserDetail)
async def get_user(user_id: str):
    """One user: plan, role, credits, recent ledger entries and recent generations."""
    return await container().admin.users_controller.detail(user_id)


@bp.patch("/users/<user_id>")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@problems(409)
@validate_request(UserPatch)
@validate_response(AdminUserOut)
async def patch_user(user_id: str, data: UserPatch):
    """Change a user's role, plan or disabled flag (audited; a plan brings its role, never demoting ADMIN)."""
    return await container().admin.users_controller.update(user_id, data)


@bp.delete("/users/<user_id>")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@problems(502)
@answers(202, AccountDeletedOut, description="Deleted, as `DELETE /api/v1/me` does (no password asked).")
async def delete_user(user_id: str):
    """Delete a user's account for good, as the user can (contract §20; audited in the log)."""
    erased = await container().admin.erasure.delete_user(user_id, admin_id=g.principal.user_id)
    return erased.as_dict(), 202


@bp.post("/users/<user_id>/credits")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@problems(409)
@validate_request(CreditAdjustment)
@validate_response(CreditAdjustmentOut)
async def adjust_credits(user_id: str, data: CreditAdjustment):
    """Adjust a user's balance; a ledger entry of kind `admin_adjustment` records the admin and reason."""
    return await container().admin.users_controller.adjust_credits(user_id, data)


@bp.get("/stats")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_response(StatsOut)
async def stats():
    """Users, generations, credits, revenue and per-provider calls, failures and circuit state."""
    return await container().admin.users_controller.stats()
