"""Credit job functions for the arq worker: the periodic reconcile.

Plain coroutines over a `JobContext`: `app.jobs` wraps them with its `job` decorator in its job registry.
"""

from __future__ import annotations

from app.config import Settings
from app.wiring.credits import CreditsParts
from app.wiring.jobs import JobContext


async def reconcile_all(credits: CreditsParts, settings: Settings, *,
                        older_than_s: float | None = None) -> dict[str, int]:
    """Repair credit ops left pending by a crash, then credit gift codes claimed but not credited."""
    counts = await credits.service.reconcile(older_than_s=older_than_s)
    age = settings.credits_reconcile_after_s if older_than_s is None else older_than_s
    counts["gift_codes"] = await credits.gift_codes.reconcile(older_than_s=age)
    return counts


async def reconcile_credits(jobs: JobContext) -> dict[str, int]:
    """Periodic reconcile of the credit ledger (also `python -m app credits reconcile`)."""
    return await reconcile_all(jobs.credits, jobs.settings)
