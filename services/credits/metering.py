"""Provider usage and cost (contract §19): what each provider call used (tokens, images, video
seconds) and what it cost in USD, from the price table, recorded in the daily usage rollup.

The price table is per provider model: `{"gemini-2.5-flash": {"input_per_1m": 0.3,
"output_per_1m": 2.5}, "gpt-image-1": {"per_image": 0.04}, "veo": {"per_video_second": 0.5}}`,
from `PROVIDER_PRICES` (configuration), overlaid per model by the live setting `provider_prices`
(admins edit it at run time). A model is looked up as `<provider>/<model>` first, then `<model>`;
a model without a price costs 0 (and is logged once per process).

Costs are kept in the rollup as whole micro-dollars (`cost_micro_usd`: exact integer sums), on the
user's day document of the request (by kind, catalogue model, API key and plan), so the admin
analytics read cost, credits and users from the same documents. A record is counted once per
`ref` (the rollup's parking scheme), whatever is repeated. Counts ride the credits' ledger batches
(services/credits/ledger_writer.py): a provider call adds no MongoDB write of its own, and readers
of the rollup in this process settle first, as they do for the ledger.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal

import structlog

from services.credits.model import COST, MICRO, Bucket
from services.credits.ports import Attribution, Counted, ProviderUsage, UsageCounter
from services.platform import key_limits
from services.platform.clock import utcnow
from services.platform.ports.metrics import NO_METRICS, Metrics
from services.platform.prices import PRICE_FIELDS

log = structlog.stdlib.get_logger("muse.metering")



class PriceTable:
    """USD per unit and model."""

    def __init__(self, prices: Mapping[str, Mapping[str, float]]) -> None:
        self._prices = {k: dict(v) for k, v in prices.items() if v}

    def price(self, provider: str, model: str) -> dict[str, float] | None:
        return self._prices.get(f"{provider}/{model}") or self._prices.get(model)

    def cost(self, usage: ProviderUsage) -> Decimal | None:
        """The call's cost in USD; None when its model has no price."""
        price = self.price(usage.provider, usage.model)
        if price is None:
            return None
        p = {k: Decimal(str(price.get(k, 0))) for k in PRICE_FIELDS}
        return (p["input_per_1m"] * usage.tokens_in / MICRO + p["output_per_1m"] * usage.tokens_out / MICRO
                + p["per_image"] * usage.images + p["per_video_second"] * usage.video_seconds)


class ProviderMeter:
    """Records provider usage and cost: the rollup and `muse_provider_cost_usd_total`."""

    def __init__(self, counter: UsageCounter,
                 prices: Callable[[], Awaitable[Mapping[str, Mapping[str, float]]]], *,
                 metrics: Metrics = NO_METRICS) -> None:
        self._counter, self._prices, self._metrics = counter, prices, metrics
        self._unpriced: set[str] = set()

    async def table(self) -> PriceTable:
        """The price table in force (configuration overlaid by live settings)."""
        return PriceTable(await self._prices())

    async def record(self, who: Attribution, usage: ProviderUsage, *, wait: bool = False) -> Decimal:
        """Count one provider call of `who`'s request with the next ledger batch (off the request
        path; `wait`: until it is written); its cost in USD (0 without a price)."""
        cost = (await self.table()).cost(usage)
        if cost is None:
            cost = Decimal(0)
            if usage.model not in self._unpriced:
                self._unpriced.add(usage.model)
                log.warning("provider_model_unpriced", provider=usage.provider, model=usage.model)
        if cost:
            self._metrics.provider_cost(usage.provider, usage.model, float(cost))
        key = who.api_key
        if key is None:
            bound = key_limits.current()
            key = bound.key_id if bound is not None else ""
        bucket = Bucket(who.user_id, utcnow().date().isoformat(), who.kind, who.model or "", key,
                        who.plan or "")
        inc = {"tokens_in": usage.tokens_in, "tokens_out": usage.tokens_out,
               COST: int((cost * MICRO).to_integral_value())}
        inc = {k: v for k, v in inc.items() if v}
        if inc:
            landed = self._counter.count_later(Counted(bucket, inc, ref=f"u:{who.ref}:{usage.provider}"))
            if wait:
                await asyncio.shield(landed)
        return cost
