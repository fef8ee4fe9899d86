"""Request and response models of the subscriptions endpoints (used by controllers/subscriptions.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field, RootModel

from controllers.schemas.base import RequestBody
from controllers.schemas.payments import ProviderName


class SubscribeIn(RequestBody):
    plan: str = Field(min_length=1, max_length=64, examples=["starter"],
                      json_schema_extra={"x-muse-choices": "subscription_plans"})
    provider: ProviderName | None = Field(default=None, description="Default: the first enabled processor.")


class SubscriptionOut(BaseModel):
    subscription_id: str
    provider: str
    plan: str
    status: str
    checkout_url: str | None = None
    approve_url: str | None = None
    paypal_subscription_id: str | None = None
    current_period_end: str | None = None
    created_at: str
    cancelled_at: str | None = None


class CurrentSubscriptionOut(RootModel[SubscriptionOut | None]):
    """The caller's pending, active or suspended subscription, or `null` when there is none."""
