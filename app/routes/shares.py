"""Share links of images (contract §11): create/revoke, and the public page."""

from __future__ import annotations

from quart import Blueprint, g, request
from quart_schema import hide, validate_response

from app.routes.deps import container
from controllers.schemas.shares import ShareOut
from middlewares.access import public, require_role
from middlewares.policy import policy
from services.platform.principal import Role

bp = Blueprint("shares", __name__)


@bp.post("/api/v1/images/<image_id>/share")
@require_role(Role.USER)
@policy(scope="images")
@validate_response(ShareOut)
async def share_image(image_id: str):
    """A public link to one finished image: `{"url", "token"}` (the same link on a repeated call).

    The page at the URL shows the image and its prompt without sign-in."""
    return await container().media.shares_controller.create(g.principal, image_id)


@bp.delete("/api/v1/images/<image_id>/share")
@require_role(Role.USER)
@policy(scope="images")
async def unshare_image(image_id: str):
    """Revoke the image's public link (204); the link answers 404 at once.

    Deleting the image revokes it too."""
    return await container().media.shares_controller.delete(g.principal, image_id)


@bp.get("/s/<token>")
@hide
@public
@policy()
async def shared_page(token: str):
    """The public page of a shared image (HTML); 404 once revoked, deleted or expired (a page to a
    browser, problem+json to other clients)."""
    best = request.accept_mimetypes.best_match(["application/problem+json", "application/json", "text/html"])
    return await container().media.shares_controller.page(token, wants_html=best == "text/html")
