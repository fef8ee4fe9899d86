"""The public plan catalogue (contract §3 `GET /api/v1/plans`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from services.catalog import Catalog, CreditPack, GiftTier, ModelOffer, Plan


class PlansOut(BaseModel):
    plans: list[Plan]
    gift_tiers: list[GiftTier]
    credit_packs: list[CreditPack]
    prices: dict[str, int]
    models: list[ModelOffer]


class PlansController:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def list(self) -> dict[str, Any]:
        """Plans, gift tiers, credit packs and prices."""
        return self._catalog.public()
