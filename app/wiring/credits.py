"""Credits: credit accounts and their ledger, gift codes, plans and packs on sale."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings
from app.wiring.adapters import payment_factories
from app.wiring.overrides import Overrides
from app.wiring.platform import PlatformParts
from controllers.plans import PlansController
from repositories.credits import CopiedCreditAccountRepository
from repositories.gift_codes import BeanieGiftCodeRepository
from repositories.key_spend import MongoKeySpendRepository
from repositories.ledger import BeanieLedgerRepository
from repositories.usage import MongoUsageRollup
from services.credits.gift_codes import GiftCodeService
from services.credits.metering import ProviderMeter
from services.credits.ports import WatchedRollup
from services.credits.service import CreditsService
from services.credits.usage import UsageService


@dataclass(frozen=True, kw_only=True)
class CreditsParts:
    accounts: CopiedCreditAccountRepository  # the pots /me shows from this process's copy
    ledger: BeanieLedgerRepository
    service: CreditsService
    gift_codes: GiftCodeService
    key_spend: MongoKeySpendRepository  # what each API key spent (its caps, contract §19)
    usage: UsageService  # usage per user from the daily rollup (contract §19)
    rollup: WatchedRollup  # MongoUsageRollup, telling budget alerts what moved
    meter: ProviderMeter  # provider usage and cost, priced by PROVIDER_PRICES and `provider_prices`
    plans_controller: PlansController

    async def aclose(self) -> None:
        await self.service.aclose()  # the ledger entries of its last charges; its owed refunds


def wire_credits(s: Settings, o: Overrides, platform: PlatformParts) -> CreditsParts:
    live, catalog = platform.live_settings, platform.catalog

    async def signup_credits() -> int:
        return (await live.current()).signup_credits  # admin-editable

    # the pots /me shows, answered from this process's copy (pushed invalidation), issue 28
    accounts = CopiedCreditAccountRepository(platform.local_copies, prefix=f"{platform.namespace}account:")
    ledger = BeanieLedgerRepository()
    key_spend, rollup = MongoKeySpendRepository(), WatchedRollup(MongoUsageRollup())
    credits = CreditsService(accounts, ledger, catalog, signup_credits=signup_credits,
                             reconcile_after_s=s.credits_reconcile_after_s, metrics=platform.metrics,
                             key_spend=key_spend, usage=rollup,
                             # a charge write cut without an answer is settled once it cannot land any
                             # more: the store bounds each op by its timeout (timeoutMS, sent as maxTimeMS)
                             in_doubt_s=2 * s.mongodb_timeout_s + 1)
    gift_codes = GiftCodeService(BeanieGiftCodeRepository(), credits, catalog)
    usage = UsageService(rollup, settle=credits.settle)
    configured = {model: prices for model, prices in s.provider_prices.items() if prices}

    async def prices() -> dict[str, dict[str, float]]:
        return {**configured, **(await live.current()).provider_prices}  # live prices win per model

    meter = ProviderMeter(credits, prices, metrics=platform.metrics)  # counted with the ledger batches
    return CreditsParts(
        accounts=accounts, ledger=ledger, service=credits, gift_codes=gift_codes, key_spend=key_spend,
        usage=usage, rollup=rollup, meter=meter,
        plans_controller=PlansController(catalog, paypal_plan_ids=s.paypal_plan_map,
                                         payment_providers=list(payment_factories(s, o.payments_provider))))
