"""The public plan catalogue (contract §3 `GET /api/v1/plans`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from services.catalog import Catalog, CreditPack, GiftTier, ModelOffer


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


class PlansController:
    def __init__(self, catalog: Catalog, *, paypal_plan_ids: Mapping[str, str]) -> None:
        self._catalog = catalog
        self._paypal_plan_ids = dict(paypal_plan_ids)

    async def list(self) -> dict[str, Any]:
        """Plans, gift tiers, credit packs and prices."""
        body = self._catalog.public()
        body["plans"] = [Plan(**p, paypal_plan_id=self._paypal_plan_ids.get(p["name"])).model_dump()
                         for p in body["plans"]]
        return body
