"""Clerk webhook route (contract §8)."""

from __future__ import annotations

from quart import Blueprint, request

from app.openapi import problems, required_headers
from app.routes.deps import container
from controllers.schemas.webhooks import ClerkEvent
from middlewares.access import public
from middlewares.body import signed_body
from middlewares.policy import policy
from middlewares.query import foreign_query

bp = Blueprint("webhooks_clerk", __name__)


@bp.post("/api/v1/webhooks/clerk")
@required_headers(("svix-id", "The delivery's ID (each is processed once)."),
                  ("svix-timestamp", "Seconds since the epoch; at most 5 minutes old."),
                  ("svix-signature",
                   "`v1,<base64 HMAC-SHA256>` of `id.timestamp.body` with CLERK_WEBHOOK_SECRET."))
@public
@policy(open_in_maintenance=True, rate_limited=False)
@signed_body(ClerkEvent)
@foreign_query  # the provider's delivery: its signed body is what counts
@problems(400, 503)
async def clerk_webhook():
    """Clerk user events, verified with the Svix signature; each svix-id is processed once."""
    processed = await container().identity.clerk_events.receive(await request.get_data(), request.headers)
    return {"received": True, "processed": processed}  # 200 also for a delivery already processed
