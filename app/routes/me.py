"""Account routes (contract §3) and an admin identity probe."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import validate_response

from app.routes.deps import container
from controllers.schemas.identity import MeOut, WhoAmIOut
from middlewares.access import require_role
from middlewares.policy import policy
from services.platform.principal import Role

bp = Blueprint("me", __name__)


@bp.get("/api/v1/me")
@require_role(Role.USER)
@policy()
@validate_response(MeOut)
async def me():
    """The caller's account: id, Clerk ID, email, name, role, plan and credits."""
    return await container().identity.me_controller.me(g.principal, g.get("user"))


@bp.get("/api/v1/admin/whoami")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_response(WhoAmIOut)
async def admin_whoami():
    """The calling administrator's identity (ADMIN only)."""
    return await container().identity.me_controller.whoami(g.principal)
