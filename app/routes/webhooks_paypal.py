"""PayPal webhook route (contract §6)."""

from __future__ import annotations

from quart import Blueprint, request

from app.openapi import problems, required_headers
from app.routes.deps import container
from controllers.schemas.webhooks import PayPalEvent
from middlewares.access import public
from middlewares.body import signed_body
from middlewares.policy import policy
from middlewares.query import foreign_query
from middlewares.request_id import current_request_id

bp = Blueprint("webhooks_paypal", __name__)


@bp.post("/api/v1/webhooks/paypal")
@required_headers(*((name, "PayPal's transmission header, verified with PayPal (PAYPAL_WEBHOOK_ID).")
                    for name in ("PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME",
                                 "PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL", "PAYPAL-AUTH-ALGO")))
@public
@policy(open_in_maintenance=True, rate_limited=False)
@signed_body(PayPalEvent)
@foreign_query  # the provider's delivery: its signed body is what counts
@problems(400, 503)
async def paypal_webhook():
    """PayPal events, verified through PayPal (PAYPAL_WEBHOOK_ID); each event id is processed once."""
    body = await request.get_data()
    processed = await container().payments.paypal_webhooks.receive(body, request.headers,
                                                                   request_id=current_request_id())
    return {"received": True, "processed": processed}  # 200 also for a delivery already processed
