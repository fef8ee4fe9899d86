"""Account routes (contract §3) and an admin identity probe."""

from __future__ import annotations

from quart import Blueprint, g, request
from quart_schema import validate_response

from app.openapi import answers, event_stream, problems
from app.routes.deps import container
from controllers.erasure import delete_me_body
from controllers.schemas.identity import AccountDeletedOut, DeleteMeIn, ExportOut, MeOut, WhoAmIOut
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


@bp.get("/api/v1/me/export")
@require_role(Role.USER)
@policy()
@problems(409)
@answers(202, ExportOut, description="Queued (or the export already running): poll the Location.",
         headers=("Location",))
async def start_export():
    """Export the caller's data (contract §20): a background job writes a zip archive of
    `profile.json`, `conversations.json` (every branch), `images.json` (images and videos with their
    media URLs), `ledger.json`, `payments.json` and `api_keys.json` (no secrets). One export runs at
    a time: while it runs this answers the same job. Follow it at the `Location` or its `/events`;
    once completed, download it from `download_url` for 24 h."""
    return await container().admin.export_controller.start(g.principal)


@bp.get("/api/v1/me/exports/<rid:export_id>")
@require_role(Role.USER)
@policy()
@validate_response(ExportOut)
async def get_export(export_id: str):
    """One of the caller's data exports: status and progress (another user's is 404)."""
    return await container().admin.export_controller.get(g.principal, export_id)


@bp.get("/api/v1/me/exports/<rid:export_id>/events")
@require_role(Role.USER)
@policy()
@event_stream("`event: status` with the export resource as it is, then after each file written; "
              "ends once it is completed or failed.")
async def export_events(export_id: str):
    """The export's progress, pushed (`text/event-stream`); another user's is 404."""
    return await container().admin.export_controller.events(g.principal, export_id)


@bp.get("/api/v1/me/exports/<rid:export_id>/download")
@require_role(Role.USER)
@policy()
@problems(409, 410)
@answers(200, None, description="The zip archive (an attachment).", media="application/zip")
async def download_export(export_id: str):
    """The finished export's zip archive, to its owner only (another user's is 404); 409 while it
    runs, 410 once deleted (24 h after it completed)."""
    return await container().admin.export_controller.download(g.principal, export_id)


@bp.get("/api/v1/admin/whoami")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_response(WhoAmIOut)
async def admin_whoami():
    """The calling administrator's identity (ADMIN only)."""
    return await container().identity.me_controller.whoami(g.principal)
