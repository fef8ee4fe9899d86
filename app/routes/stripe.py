"""Stripe routes (contract §14): the webhook, the Checkout return/cancel, the billing portal."""

from __future__ import annotations

from quart import Blueprint, g, redirect, request
from quart_schema import validate_querystring, validate_response

from app.openapi import answers, problems, required_headers
from app.routes.deps import container
from controllers.schemas.payments import PortalOut, StripeReturnQuery
from controllers.schemas.webhooks import StripeEvent
from middlewares.access import public, require_role
from middlewares.body import signed_body
from middlewares.policy import policy
from middlewares.query import foreign_query
from middlewares.request_id import current_request_id
from services.platform.principal import Role

bp = Blueprint("stripe", __name__)


@bp.post("/api/v1/webhooks/stripe")
@required_headers(("Stripe-Signature",
                   "`t=<time>,v1=<hex HMAC-SHA256 of t.body>` with STRIPE_WEBHOOK_SECRET."))
@public
@policy(open_in_maintenance=True, rate_limited=False)
@signed_body(StripeEvent)
@foreign_query  # the provider's delivery: its signed body is what counts
@problems(400, 409, 503)
async def stripe_webhook():
    """Stripe events, verified with `Stripe-Signature` (STRIPE_WEBHOOK_SECRET, 300 s); each event id once.

    409: the event cannot apply yet (a refund overtaking its checkout's event); Stripe retries it."""
    processed = await container().payments.stripe_webhooks.receive(await request.get_data(), request.headers,
                                                                   request_id=current_request_id())
    return {"received": True, "processed": processed}


@bp.get("/api/v1/payments/stripe/return")
@public
@policy()
@answers(303, description="To CHECKOUT_SUCCESS_URL (or the cancel URL on failure).", headers=("Location",),
         media="")
@foreign_query  # Stripe sends the buyer here: the URL is the provider's, not a client's
@validate_querystring(StripeReturnQuery)
async def stripe_return(query_args: StripeReturnQuery):
    """Stripe Checkout sends the buyer here (`session_id`): credit once if paid, 303 to the success URL."""
    target = await container().payments.service.return_redirect("stripe", query_args.session_id,
                                                                request_id=current_request_id())
    return redirect(target, 303)


@bp.get("/api/v1/payments/stripe/cancel")
@public
@policy()
@answers(303, description="To CHECKOUT_CANCEL_URL.", headers=("Location",), media="")
@foreign_query  # Stripe sends the buyer here: the URL is the provider's, not a client's
@validate_querystring(StripeReturnQuery)
async def stripe_cancel(query_args: StripeReturnQuery):
    """Stripe Checkout sends the buyer here after cancelling: mark it cancelled, 303 to the cancel URL."""
    target = await container().payments.service.cancel_redirect("stripe", query_args.session_id,
                                                                payment_id=query_args.payment_id)
    return redirect(target, 303)


@bp.post("/api/v1/billing/portal")
@require_role(Role.USER)
@policy()
@problems(404, 502, 503, 504)
@validate_response(PortalOut)
async def billing_portal():
    """Stripe's customer portal for the caller: `{"url"}` (404 when they have no Stripe customer)."""
    return {"url": await container().payments.service.portal(g.principal.require_user_id())}
