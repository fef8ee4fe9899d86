"""The public plan catalogue (contract §3 `GET /api/v1/plans`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from controllers.schemas.plans import Plan
from services.platform.catalog import Catalog


class PlansController:
    def __init__(self, catalog: Catalog, *, paypal_plan_ids: Mapping[str, str],
                 payment_providers: Sequence[str] = ()) -> None:
        self._catalog = catalog
        self._paypal_plan_ids = dict(paypal_plan_ids)
        self._payment_providers = list(payment_providers)

    async def list(self) -> dict[str, Any]:
        """Plans, gift tiers, credit packs and prices."""
        body = self._catalog.public()
        body["plans"] = [Plan(**p, paypal_plan_id=self._paypal_plan_ids.get(p["name"])).model_dump()
                         for p in body["plans"]]
        body["payment_providers"] = self._payment_providers
        return body
