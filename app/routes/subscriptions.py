"""Subscription routes (contract §6)."""

from __future__ import annotations

from quart import Blueprint, Response, g
from quart_schema import validate_request, validate_response

from app.openapi import answers, problems
from app.routes.deps import container
from controllers.schemas.subscriptions import CurrentSubscriptionOut, SubscribeIn, SubscriptionOut
from controllers.subscriptions import subscription_out
from middlewares.access import require_role
from middlewares.idempotency import idempotent
from middlewares.policy import policy
from middlewares.request_id import current_request_id
from services.platform.principal import Role

bp = Blueprint("subscriptions", __name__)


@bp.post("/api/v1/subscriptions")
@require_role(Role.USER)
@policy()
@problems(404, 502, 503, 504)
@idempotent
@validate_request(SubscribeIn)
@validate_response(SubscriptionOut, 201)
async def subscribe(data: SubscribeIn):
    """Subscribe to a paid plan through PayPal; approve it at `approve_url`. Accepts `Idempotency-Key`."""
    sub = await container().payments.subscriptions.create(g.principal.require_user_id(), data.plan,
                                                          request_id=current_request_id(),
                                                          provider_name=data.provider)
    return subscription_out(sub), 201


@bp.get("/api/v1/subscriptions/current")
@require_role(Role.USER)
@policy()
@answers(200, CurrentSubscriptionOut)
async def current_subscription():
    """The caller's pending, active or suspended subscription, or `null` when there is none."""
    sub = await container().payments.subscriptions.find_current(g.principal.require_user_id())
    found = CurrentSubscriptionOut.model_validate(subscription_out(sub) if sub else None)
    return Response(found.model_dump_json(), content_type="application/json")


@bp.delete("/api/v1/subscriptions/current")
@require_role(Role.USER)
@policy()
@problems(404, 502, 503, 504)
@validate_response(SubscriptionOut)
async def cancel_subscription():
    """Cancel the caller's subscription at PayPal; the plan ends at once."""
    sub = await container().payments.subscriptions.cancel_current(g.principal.require_user_id())
    return subscription_out(sub)
