"""Credit job functions for the arq worker: the periodic reconcile.

Plain coroutines: `app.jobs` wraps them with its `job` decorator in its job registry.
"""

from __future__ import annotations

from typing import Any


async def reconcile_all(container: Any, *, older_than_s: float | None = None) -> dict[str, int]:
    """Repair credit ops left pending by a crash, then credit gift codes claimed but not credited."""
    counts = await container.credits.service.reconcile(older_than_s=older_than_s)
    age = container.settings.credits_reconcile_after_s if older_than_s is None else older_than_s
    counts["gift_codes"] = await container.credits.gift_codes.reconcile(older_than_s=age)
    return counts


async def reconcile_credits(ctx: dict[str, Any]) -> dict[str, int]:
    """Periodic reconcile of the credit ledger (also `python -m app credits reconcile`)."""
    return await reconcile_all(ctx["container"])
