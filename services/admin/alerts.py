"""Budget alerts (contract §19): a user's monthly credits, the service's daily provider cost.

A user sets `monthly_credits` (`PUT /api/v1/me/alerts`); an admin sets the service-wide
`daily_provider_cost_usd` (`PUT /api/v1/admin/alerts`). When spending reaches the threshold in a
period (the UTC month; the UTC day), one email goes out through the mail port: to the user, or to
the admin who set the service's threshold. Exactly one per period, whatever the concurrency: the
sender is whoever wins the store's atomic claim of (owner, period). Checks run as usage lands
(services/credits/ports.py `WatchedRollup`: after ledger entries are rolled up, and after each
provider call's cost is counted), off the request path of the charge; the thresholds they compare
with are re-read at most every 2 s per process (a threshold set in another process applies here
within 2 s; one set here at once). The web app shows a banner
while a threshold is reached (`crossed` in the GET answers).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import structlog

from services.admin.ports import AlertStore, Users
from services.credits.model import MICRO
from services.credits.ports import UsageRollup
from services.identity.ports.email import EmailMessage, EmailSender
from services.platform.clock import isoformat, utcnow
from services.platform.errors import ValidationFailed

log = structlog.stdlib.get_logger("muse.alerts")

MAX_MONTHLY_CREDITS = 1_000_000_000
MAX_DAILY_COST_USD = 1_000_000
SERVICE = "service"
MAX_CACHED_THRESHOLDS = 10_000


def _user(user_id: str) -> str:
    return f"user:{user_id}"


class BudgetAlerts:
    """Thresholds, what has been spent against them, and the notices."""

    def __init__(self, store: AlertStore, rollup: UsageRollup, users: Users,
                 mailer: EmailSender | None, *, base_url: str = "", cache_s: float = 2.0,
                 settle: Callable[[], Awaitable[None]] | None = None) -> None:
        self._store, self._rollup, self._users, self._mailer = store, rollup, users, mailer
        self._settle = settle  # waits for this process's batched ledger entries and provider usage
        self._base_url = base_url
        self._cache_s = cache_s
        # owner → (read at, threshold or None): the users' and the service's thresholds checked as
        # usage lands, re-read at most every `cache_s` (a ledger batch asked MongoDB each time, issue
        # 28). Set here: forgotten at once; set in another process: seen within `cache_s`. A threshold
        # grants nothing.
        self._thresholds: OrderedDict[str, tuple[float, float | None]] = OrderedDict()

    # --- the user's monthly credits ------------------------------------------------------
    async def user_alert(self, user_id: str) -> dict[str, Any]:
        """`monthly_credits` (None: no alert), this month's spend, whether it is reached."""
        if self._settle is not None:
            await self._settle()
        doc = await self._store.get(_user(user_id)) or {}
        month, spent = await self._spent_this_month(user_id)
        threshold = doc.get("threshold")
        return {"monthly_credits": int(threshold) if threshold is not None else None, "period": month,
                "spent_this_month": spent, "crossed": threshold is not None and spent >= threshold,
                "notified_at": isoformat(doc["notified_at"]) if doc.get("notified") == month else None}

    async def set_user_alert(self, user_id: str, monthly_credits: int | None) -> dict[str, Any]:
        if monthly_credits is not None and not 1 <= monthly_credits <= MAX_MONTHLY_CREDITS:
            raise ValidationFailed(errors=[{"loc": ["body", "monthly_credits"],
                                            "msg": f"1..{MAX_MONTHLY_CREDITS}"}])
        await self._store.set(_user(user_id), monthly_credits, by=user_id)
        self._thresholds.pop(_user(user_id), None)
        await self.usage_moved({user_id}, {})  # already past it: the notice goes now
        return await self.user_alert(user_id)

    async def _spent_this_month(self, user_id: str) -> tuple[str, int]:
        today = utcnow().date()
        first = today.replace(day=1).isoformat()
        rows = await self._rollup.rows(user_id, first=first, last=today.isoformat())
        return today.strftime("%Y-%m"), sum(int(r.get("t|credits", 0) or 0) for r in rows)

    # --- the service's daily provider cost -------------------------------------------------
    async def service_alert(self) -> dict[str, Any]:
        if self._settle is not None:
            await self._settle()
        doc = await self._store.get(SERVICE) or {}
        today = utcnow().date().isoformat()
        cost = await self._store.cost(today)
        threshold = doc.get("threshold")
        return {"daily_provider_cost_usd": threshold, "period": today,
                "cost_today_usd": float(Decimal(cost) / MICRO),
                "crossed": threshold is not None and cost >= threshold * 1_000_000,
                "notified_at": isoformat(doc["notified_at"]) if doc.get("notified") == today else None}

    async def set_service_alert(self, admin_id: str, usd: float | None) -> dict[str, Any]:
        await self._store.set(SERVICE, usd, by=admin_id)
        self._thresholds.pop(SERVICE, None)
        await self.usage_moved(set(), {utcnow().date().isoformat(): 0})
        return await self.service_alert()

    async def _thresholds_of(self, owners: list[str]) -> dict[str, float]:
        """The thresholds set among `owners`: from this process's copy, the stale ones in one query."""
        now, copy = time.monotonic(), self._thresholds
        stale = [o for o in owners if o not in copy or now - copy[o][0] > self._cache_s]
        if stale:
            found = await self._store.thresholds(stale)
            for owner in stale:
                self._thresholds[owner] = (now, found.get(owner))
                self._thresholds.move_to_end(owner)
            while len(self._thresholds) > MAX_CACHED_THRESHOLDS:
                self._thresholds.popitem(last=False)
        return {o: t for o in owners if (t := self._thresholds.get(o, (0.0, None))[1]) is not None}

    # --- checks as usage lands (a WatchedRollup watcher) ------------------------------------
    async def usage_moved(self, user_ids: set[str], cost: dict[str, int]) -> None:
        """Notify the users (and the service) whose threshold this usage reached, once a period."""
        if user_ids:
            thresholds = await self._thresholds_of([_user(u) for u in sorted(user_ids)])
            for owner, threshold in thresholds.items():
                user_id = owner.removeprefix("user:")
                month, spent = await self._spent_this_month(user_id)
                if spent >= threshold and await self._store.claim(owner, month):
                    await self._notify_user(user_id, month, spent, int(threshold))
        for day, micro in cost.items():
            total = await self._store.add_cost(day, micro) if micro else await self._store.cost(day)
            usd = (await self._thresholds_of([SERVICE])).get(SERVICE)
            today = day == utcnow().date().isoformat()
            reached = today and usd is not None and total >= usd * 1_000_000
            if reached and usd is not None and await self._store.claim(SERVICE, day):
                await self._notify_admin(day, total, usd)

    async def _notify_user(self, user_id: str, month: str, spent: int, threshold: int) -> None:
        user = await self._users.get(user_id)
        if user is None or not user.email or self._mailer is None:
            log.info("budget_alert_not_mailed", user_id=user_id, reason="no email or no mail port")
            return
        await self._send(EmailMessage(
            to=user.email, subject=f"Muse: you have used {spent} credits this month",
            text=f"You asked to be told when your usage reached {threshold} credits in {month} (UTC). "
                 f"You have used {spent}. See {self._base_url}/usage.\n\n"
                 "This is the only notice this month."))

    async def _notify_admin(self, day: str, total: int, threshold: float) -> None:
        doc = await self._store.get(SERVICE) or {}
        admin = await self._users.get(str(doc.get("by") or ""))
        if admin is None or not admin.email or self._mailer is None:
            log.warning("service_budget_alert_not_mailed", day=day, cost_micro_usd=total)
            return
        usd = Decimal(total) / MICRO
        await self._send(EmailMessage(
            to=admin.email, subject=f"Muse: provider cost today is {usd:.2f} USD",
            text=f"Provider cost on {day} (UTC) reached {usd:.2f} USD, past the alert at "
                 f"{threshold:.2f} USD. See {self._base_url}/admin/analytics.\n\n"
                 "This is the only notice today."))

    async def _send(self, message: EmailMessage) -> None:
        assert self._mailer is not None
        try:
            await self._mailer.send(message)
            log.info("budget_alert_sent", to=message.to, subject=message.subject)
        except Exception as exc:  # noqa: BLE001 - the claim stands: a notice is at most once
            log.warning("budget_alert_send_failed", error=type(exc).__name__)
