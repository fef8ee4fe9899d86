"""Clerk webhook route (contract §8)."""

from __future__ import annotations

from quart import Blueprint, request

from app.openapi import problems
from app.routes.deps import container
from middlewares.access import public
from middlewares.policy import policy

bp = Blueprint("webhooks_clerk", __name__)


@bp.post("/api/v1/webhooks/clerk")
@public
@policy(open_in_maintenance=True, rate_limited=False)
@problems(400, 503)
async def clerk_webhook():
    """Clerk user events, verified with the Svix signature; each svix-id is processed once."""
    body = await request.get_data()
    return await container().identity.clerk_webhooks_controller.receive(body, request.headers)
