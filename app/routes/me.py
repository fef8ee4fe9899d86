"""Account routes (contract §3) and an admin identity probe."""

from __future__ import annotations

from quart import Blueprint, g, request
from quart_schema import validate_response

from app.openapi import answers, problems
from app.routes.deps import container
from controllers.erasure import delete_me_body
from controllers.schemas.identity import AccountDeletedOut, DeleteMeIn, MeOut, WhoAmIOut
from middlewares.access import require_role
from middlewares.body import request_body
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


@bp.delete("/api/v1/me")
@require_role(Role.USER)
@policy()
@request_body(json=DeleteMeIn)
@problems(401, 422, 502)
@answers(202, AccountDeletedOut, description="Deleted: signed out everywhere, the data removed.")
async def delete_me():
    """Delete the caller's account for good (contract §20): Clerk users are deleted at Clerk too;
    Muse's own accounts send `{"password"}`. Sessions and API keys stop working at once; the
    conversations, images, videos (with their files) and share links are deleted; the user is
    anonymised; the ledger and payments stay for accounting under the user id only."""
    body = delete_me_body(await request.get_data())
    erased = await container().admin.erasure.delete_own(g.principal.require_user_id(), password=body.password)
    return erased.as_dict(), 202


@bp.get("/api/v1/admin/whoami")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_response(WhoAmIOut)
async def admin_whoami():
    """The calling administrator's identity (ADMIN only)."""
    return await container().identity.me_controller.whoami(g.principal)
