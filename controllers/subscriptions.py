"""Subscription endpoints (contract §6)."""

from __future__ import annotations

from typing import Any

from controllers.schemas.subscriptions import CurrentSubscriptionOut, SubscribeIn
from middlewares.request_id import current_request_id
from services.payments.model import Subscription
from services.payments.subscriptions import SubscriptionService
from services.platform.clock import isoformat
from services.platform.principal import Principal


def subscription_out(sub: Subscription) -> dict[str, Any]:
    """The public shape of a subscription."""
    return {"subscription_id": sub.id, "provider": sub.provider, "plan": sub.plan, "status": sub.status,
            "checkout_url": sub.approve_url, "approve_url": sub.approve_url,
            "paypal_subscription_id": sub.external_id if sub.provider == "paypal" else None,
            "current_period_end": isoformat(sub.current_period_end), "created_at": isoformat(sub.created_at),
            "cancelled_at": isoformat(sub.cancelled_at)}


class SubscriptionsController:
    """HTTP ⇄ SubscriptionService."""

    def __init__(self, subscriptions: SubscriptionService) -> None:
        self._subs = subscriptions

    async def create(self, principal: Principal, data: SubscribeIn):
        """201 with the checkout URL (PayPal: approve URL)."""
        sub = await self._subs.create(principal.require_user_id(), data.plan, request_id=current_request_id(),
                                      provider_name=data.provider)
        return subscription_out(sub), 201

    async def current(self, principal: Principal) -> CurrentSubscriptionOut:
        """The caller's live subscription, or null when there is none: an ordinary state of an
        account, not a missing resource (a 404 here was a console error on every Credits load)."""
        sub = await self._subs.find_current(principal.require_user_id())
        return CurrentSubscriptionOut.model_validate(subscription_out(sub) if sub else None)

    async def cancel(self, principal: Principal) -> dict[str, Any]:
        """Cancel the caller's subscription at its processor."""
        return subscription_out(await self._subs.cancel_current(principal.require_user_id()))
