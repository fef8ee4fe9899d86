"""Request and response models of the plans endpoints (used by controllers/plans.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.platform.catalog import CreditPack, GiftTier, ModelOffer


# Named and documented like the catalogue's Plan so that the OpenAPI component stays "Plan";
# `paypal_plan_id` comes from the PayPal adapter's mapping, not from the catalogue.
class Plan(BaseModel):
    """A plan: a daily allowance (UTC day) and the role it gives."""

    name: str
    daily_credits: int = Field(ge=0)
    role: str = "USER"
    price_usd: str | None = None
    paypal_plan_id: str | None = None
    interval: str | None = None


class PlansOut(BaseModel):
    plans: list[Plan]
    gift_tiers: list[GiftTier]
    credit_packs: list[CreditPack]
    prices: dict[str, int]
    models: list[ModelOffer]
    payment_providers: list[str] = Field(default_factory=list)
