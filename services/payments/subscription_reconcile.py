"""Bring local subscriptions, plans and roles in line with their processor (PayPal, Stripe).

Webhooks can be lost, arrive for a record not yet written, or be refused; the processor's own view is
the truth. Run by the `reconcile_subscriptions` cron and `python -m app subscriptions reconcile`:
every live subscription (APPROVAL_PENDING, APPROVED, ACTIVE, SUSPENDED) with a processor id is read
at its processor (`get_subscription`; a Stripe checkout session id resolves to the subscription it
started, once paid) and

- a different status is applied through `SubscriptionService` (the same step as a webhook: the plan
  and role follow; CANCELLED and EXPIRED stay final);
- one the processor does not know is EXPIRED;
- an unchanged status still puts the user's plan and role in line (an ACTIVE subscription whose
  user lost its plan, or an ended one whose user kept it).
"""

from __future__ import annotations

from typing import Any

import structlog

from services.payments.ports import SubscriptionRepository
from services.payments.subscriptions import SubscriptionService
from services.platform.errors import AppError

log = structlog.stdlib.get_logger("muse.subscriptions_reconcile")


class SubscriptionReconciler:
    """Checks every live subscription against its processor, `batch` at a time."""

    def __init__(self, subscriptions: SubscriptionRepository, service: SubscriptionService, *,
                 batch: int = 100) -> None:
        self._subs, self._service, self._batch = subscriptions, service, batch

    async def run(self) -> dict[str, Any]:
        """One pass over the live subscriptions; counts per outcome."""
        counts = {"checked": 0, "changed": 0, "roles": 0, "unchanged": 0, "skipped": 0, "errors": 0}
        cursor: str | None = None
        while True:
            page = await self._subs.list_live(limit=self._batch, cursor=cursor)
            for sub in page:
                counts["checked"] += 1
                try:
                    outcome = await self._service.reconcile(sub)
                except AppError as exc:  # the processor down or refusing: the next run tries again
                    log.warning("subscription_reconcile_failed", subscription_id=sub.id, code=exc.code)
                    outcome = "errors"
                counts[outcome] += 1
            if len(page) < self._batch:
                break
            cursor = page[-1].id
        log.info("subscriptions_reconciled", **counts)
        return counts
