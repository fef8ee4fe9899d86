"""Admin analytics (contract §19): is the service making money?

Per UTC day of the period: revenue (payments captured that day, PayPal and Stripe, less the
refunds made that day), refunds, provider cost (the price table's figure for each provider call,
services/credits/metering.py), margin (revenue less provider cost), credits spent (net of
refunds) and active users (users with a charged request that day). Then per plan and per
catalogue model: credits, provider cost, revenue and margin; and the users who cost the most.

Costs and credits come from the daily usage rollup (one document per user and day, read through
its `day` index), payments from the payments collection. Amounts are USD (payments in another
currency are left out and counted in `other_currency_payments`). A plan's revenue is that of its
users' payments (their plan today); a model's revenue is the period's revenue shared by credits
spent (credits are what users pay for), so margins by model add up to the period's margin.
Subscription fees are not recorded with an amount, so they are not revenue here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.admin.ports import AnalyticsRepository
from services.credits.model import COST, MICRO, period, unescape

TOP_USERS = 10
CENT = Decimal("0.000001")


def _usd(value: Decimal) -> float:
    return float(value.quantize(CENT))


def _cost(micro: int) -> Decimal:
    return Decimal(micro) / MICRO


class AnalyticsService:
    """`GET /api/v1/admin/analytics`."""

    def __init__(self, repo: AnalyticsRepository, *, currency: str = "USD",
                 settle: Callable[[], Awaitable[None]] | None = None) -> None:
        self._repo, self._currency, self._settle = repo, currency, settle

    async def analytics(self, *, first: str | None, last: str | None) -> dict[str, Any]:
        start, end = period(first, last)
        if self._settle is not None:
            await self._settle()
        day0, day1 = date.fromisoformat(start), date.fromisoformat(end)
        days = {(day0 + timedelta(days=i)).isoformat(): _Day() for i in range((day1 - day0).days + 1)}
        plans: dict[str, _Totals] = defaultdict(_Totals)
        models: dict[str, _Totals] = defaultdict(_Totals)
        users: dict[str, _Totals] = defaultdict(_Totals)
        for row in await self._repo.usage_days(first=start, last=end):
            day = days.get(str(row.get("day")))
            if day is None:
                continue
            credits, cost, requests = (int(row.get(f"t|{n}", 0) or 0) for n in ("credits", COST, "requests"))
            day.credits += credits
            day.cost += cost
            day.active += 1 if requests > 0 else 0
            users[str(row["user_id"])].add(credits, cost, requests, int(row.get("t|tokens_in", 0) or 0),
                                           int(row.get("t|tokens_out", 0) or 0))
            for name, value in row.items():
                parts = str(name).split("|")
                if len(parts) != 3 or parts[0] not in ("plan", "model"):
                    continue
                into = (plans if parts[0] == "plan" else models)[unescape(parts[1]) or "unknown"]
                into.field(parts[2], int(value or 0))
        since = datetime.combine(day0, datetime.min.time()).replace(tzinfo=UTC)
        until = datetime.combine(day1 + timedelta(days=1), datetime.min.time()).replace(tzinfo=UTC)
        payments = await self._repo.payments(since=since, until=until)
        other = 0
        paid_by: dict[str, Decimal] = defaultdict(Decimal)
        for payment in payments:
            if payment.currency != self._currency:
                other += 1
                continue
            captured = days.get(payment.completed_at.date().isoformat())
            if captured is not None:
                captured.revenue += payment.amount
                paid_by[payment.user_id] += payment.amount
            for amount, at in payment.refunds:
                refunded = days.get(at.date().isoformat())
                if refunded is not None:
                    refunded.refunds += amount
                    paid_by[payment.user_id] -= amount
        revenue_by_plan: dict[str, Decimal] = defaultdict(Decimal)
        user_plans = await self._repo.plans(sorted(paid_by))
        for user_id, amount in paid_by.items():
            revenue_by_plan[user_plans.get(user_id, "unknown")] += amount
        revenue = sum((d.revenue - d.refunds for d in days.values()), Decimal(0))
        spent = sum(d.credits for d in days.values())
        total_cost = _cost(sum(d.cost for d in days.values()))
        top = sorted(users.items(), key=lambda kv: (-kv[1].cost, -kv[1].credits, kv[0]))[:TOP_USERS]
        emails = await self._repo.emails([u for u, _ in top])
        return {
            "from": start, "to": end, "currency": self._currency, "other_currency_payments": other,
            "totals": {"revenue_usd": _usd(revenue), "provider_cost_usd": _usd(total_cost),
                       "margin_usd": _usd(revenue - total_cost), "credits_spent": spent},
            "days": [d.as_dict(name) for name, d in days.items()],
            "by_plan": [t.as_dict("plan", name, revenue_by_plan.get(name, Decimal(0)))
                        for name, t in sorted(plans.items(), key=lambda kv: (-kv[1].credits, kv[0]))],
            "by_model": [t.as_dict("model", name, revenue * t.credits / spent if spent else Decimal(0))
                         for name, t in sorted(models.items(), key=lambda kv: (-kv[1].credits, kv[0]))],
            "top_users_by_cost": [{"user_id": user_id, "email": emails.get(user_id), "requests": t.requests,
                                   "credits_spent": t.credits, "provider_cost_usd": _usd(_cost(t.cost))}
                                  for user_id, t in top if t.cost or t.credits],
        }


class _Day:
    __slots__ = ("active", "cost", "credits", "refunds", "revenue")

    def __init__(self) -> None:
        self.revenue, self.refunds = Decimal(0), Decimal(0)
        self.cost = self.credits = self.active = 0

    def as_dict(self, name: str) -> dict[str, Any]:
        net, cost = self.revenue - self.refunds, _cost(self.cost)
        return {"date": name, "revenue_usd": _usd(net), "refunds_usd": _usd(self.refunds),
                "provider_cost_usd": _usd(cost), "margin_usd": _usd(net - cost),
                "credits_spent": self.credits, "active_users": self.active}


class _Totals:
    __slots__ = ("cost", "credits", "requests", "tokens_in", "tokens_out")

    def __init__(self) -> None:
        self.cost = self.credits = self.requests = self.tokens_in = self.tokens_out = 0

    def add(self, credits: int, cost: int, requests: int, tokens_in: int, tokens_out: int) -> None:
        self.credits += credits
        self.cost += cost
        self.requests += requests
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out

    def field(self, name: str, value: int) -> None:
        if name == COST:
            self.cost += value
        elif name in ("credits", "requests", "tokens_in", "tokens_out"):
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self, label: str, name: str, revenue: Decimal) -> dict[str, Any]:
        cost = _cost(self.cost)
        return {label: name, "requests": self.requests, "credits_spent": self.credits,
                "tokens_in": self.tokens_in, "tokens_out": self.tokens_out, "provider_cost_usd": _usd(cost),
                "revenue_usd": _usd(revenue), "margin_usd": _usd(revenue - cost)}
