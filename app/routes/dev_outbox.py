"""The development outbox (contract §17); 404 outside APP_ENV=development."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from app.openapi import problems
from app.routes.deps import container
from controllers.schemas.dev import OutboxOut, OutboxQuery
from middlewares.access import public
from middlewares.policy import policy

bp = Blueprint("dev_outbox", __name__)


@bp.get("/api/v1/dev/outbox")
@public
@problems(404)  # outside development
@policy(open_in_maintenance=True)
@validate_response(OutboxOut)
@validate_querystring(OutboxQuery)
async def dev_outbox(query_args: OutboxQuery):
    """Mail Muse kept instead of sending (development only), newest first; `?limit=` up to 200."""
    return await container().identity.dev_outbox_controller.list(query_args.limit)
