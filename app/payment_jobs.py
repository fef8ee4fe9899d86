"""Payment job functions for the arq worker: the periodic re-check of open PayPal payments.

Plain coroutines: `app.jobs` wraps them with its `job` decorator in its job registry.
"""

from __future__ import annotations

from typing import Any


async def reconcile_payments(ctx: dict[str, Any]) -> dict[str, Any]:
    """Capture/credit, mark denied or expire payments that no return or webhook settled."""
    return await ctx["container"].payments.reconciler.run()
