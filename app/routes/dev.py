"""Development sign-in and client configuration (contract §11)."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_request, validate_response

from app.openapi import problems
from app.routes.deps import container
from controllers.schemas.dev import ClientConfigOut, DevTokenIn, DevTokenOut
from middlewares.access import public
from middlewares.policy import policy

bp = Blueprint("dev", __name__)


@bp.post("/api/v1/dev/token")
@public
@problems(404)  # outside development (or with Clerk)
@policy(open_in_maintenance=True)  # the web app says 'maintenance' and lets admins sign in
@validate_request(DevTokenIn)
@validate_response(DevTokenOut)
async def dev_token(data: DevTokenIn):
    """Development sign-in: a session token for `user` (optionally with `role`).

    Only in APP_ENV=development without Clerk (the app's own development key signs it); 404 otherwise."""
    return container().web.dev_controller.token(data)


@bp.get("/api/v1/client-config")
@public
@policy(open_in_maintenance=True)  # the web app says 'maintenance' and lets admins sign in
@validate_response(ClientConfigOut)
async def client_config():
    """How clients sign in here (`auth.provider`: clerk, local, dev or none) and the upload limit."""
    return container().web.dev_controller.client_config()
