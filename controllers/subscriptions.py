"""Subscription endpoints (contract §6)."""

from __future__ import annotations

from typing import Any

from services.payments.model import Subscription
from services.platform.clock import isoformat


def subscription_out(sub: Subscription) -> dict[str, Any]:
    """The public shape of a subscription."""
    return {"subscription_id": sub.id, "provider": sub.provider, "plan": sub.plan, "status": sub.status,
            "checkout_url": sub.approve_url, "approve_url": sub.approve_url,
            "paypal_subscription_id": sub.external_id if sub.provider == "paypal" else None,
            "current_period_end": isoformat(sub.current_period_end), "created_at": isoformat(sub.created_at),
            "cancelled_at": isoformat(sub.cancelled_at)}
