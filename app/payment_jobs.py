"""Payment job functions for the arq worker: the periodic re-checks of open payments and of live
subscriptions at their processors.

Plain coroutines over a `JobContext`: `app.jobs` wraps them with its `job` decorator in its job registry.
"""

from __future__ import annotations

from typing import Any

from app.wiring.jobs import JobContext


async def reconcile_payments(jobs: JobContext) -> dict[str, Any]:
    """Capture/credit, mark denied or expire payments that no return or webhook settled."""
    return await jobs.payments.reconciler.run()


async def reconcile_subscriptions(jobs: JobContext) -> dict[str, Any]:
    """Bring live subscriptions, plans and roles in line with PayPal and Stripe."""
    return await jobs.payments.subscription_reconciler.run()
