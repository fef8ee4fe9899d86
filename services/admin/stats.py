"""Admin statistics (contract §9): users, generations, credits, revenue and providers.

Definitions (windows end now):
- users: `total`; `new_24h` created in 24 h; `active_24h` charged, started an
  image or chatted in 24 h.
- generations: `chat_24h` chat charges (cache hits are free and not counted),
  `images_24h` image jobs created, `videos_24h` video jobs created, `describe_24h` image
  descriptions, `failed_24h` failed image and video jobs plus refunded chat/describe charges.
- credits: `spent_24h` charges net of refunds; `purchased_30d` credits bought,
  `reversed_30d` taken back after payment refunds.
- revenue_30d: per currency, settled pack payments completed in 30 days:
  `gross`, `refunded`, `net` (decimal strings) and `payments`.
- providers: every live-switchable provider: its switch (`enabled`), what it
  can do (`kinds`: `chat`, `image`), and the circuit breaker's `calls`,
  `failures` and `state` (shared by every process through Redis); the chat
  chain and image describe count here.
- image_providers: the same for each configured image provider (IMAGE_PROVIDERS),
  from its own breaker (`images:<name>`), with the switch of that name
  (`kinds` `["image"]`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from services.admin.ports import StatsRepository
from services.media.ports.images import breaker_name as image_breaker_name
from services.platform.clock import isoformat, utcnow
from services.platform.live_settings import LiveSettingsService
from services.platform.ports.breaker import CircuitBreaker

DAY, MONTH = timedelta(hours=24), timedelta(days=30)
IMAGE_REFUND_PREFIX = "(?:image|video)_failed"  # refunds of failed media jobs (counted as jobs)


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


class AdminStatsService:
    """Builds the stats document from the repositories, the live settings and the breakers."""

    def __init__(self, repo: StatsRepository, live_settings: LiveSettingsService, *,
                 providers: list[str], breaker: CircuitBreaker | None = None,
                 image_providers: list[str] | None = None,
                 provider_kinds: dict[str, list[str]] | None = None, currency: str = "USD",
                 settle: Callable[[], Awaitable[None]] | None = None) -> None:
        self._repo, self._live, self._breaker = repo, live_settings, breaker
        self._settle = settle  # this process's charges reach the ledger in batches; wait for them
        self._providers, self._currency = providers, currency
        self._image_providers = list(image_providers or [])
        self._kinds = dict(provider_kinds or {})

    async def stats(self) -> dict[str, Any]:
        """The whole stats document."""
        if self._settle is not None:
            await self._settle()
        now = utcnow()
        day, month = now - DAY, now - MONTH
        totals = self._repo.ledger_totals
        users = await self._repo.users(since=day)
        refunds = await self._repo.refunds(since=day, reason_prefix=IMAGE_REFUND_PREFIX)
        images = await self._repo.images(since=day)
        videos = await self._repo.images(since=day, collection="videos")
        charged = await totals(kind="charge", since=day)
        refunded = await totals(kind="refund", since=day)
        return {
            "generated_at": isoformat(now),
            "users": {"total": users["total"], "new_24h": users["new"],
                      "active_24h": len(await self._repo.active_user_ids(since=day))},
            "generations": {
                "chat_24h": (await totals(kind="charge", item="chat", since=day))["n"],
                "images_24h": images["created"],
                "videos_24h": videos["created"],
                "describe_24h": (await totals(kind="charge", item="image_describe", since=day))["n"],
                "failed_24h": images["failed"] + videos["failed"] + refunds["total"] - refunds["matching"],
            },
            "credits": {
                "spent_24h": -(charged["delta"] + refunded["delta"]),
                "purchased_30d": (await totals(kind="purchase", since=month))["delta"],
                "reversed_30d": -(await totals(kind="reversal", since=month))["delta"],
            },
            "revenue_30d": await self._revenue(month),
            "providers": await self._provider_stats({name: name for name in self._providers}, self._kinds),
            "image_providers": await self._provider_stats(
                {name: image_breaker_name(name) for name in self._image_providers},
                dict.fromkeys(self._image_providers, ["image"])),
        }

    async def _revenue(self, since: datetime) -> dict[str, dict[str, Any]]:
        raw = await self._repo.revenue(since=since)
        raw.setdefault(self._currency, {"gross": Decimal(0), "refunded": Decimal(0), "payments": 0})
        return {cur: {"gross": _money(v["gross"]), "refunded": _money(v["refunded"]),
                      "net": _money(v["gross"] - v["refunded"]), "payments": v["payments"]}
                for cur, v in sorted(raw.items())}

    async def _provider_stats(self, breakers: dict[str, str],
                              kinds: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
        """Per provider (switch name → breaker name): switch, kinds, calls, failures, circuit state."""
        live = await self._live.current()
        out: dict[str, dict[str, Any]] = {}
        for name, breaker_name in breakers.items():
            out[name] = {"enabled": self._live.provider_enabled(live, name),
                         "kinds": list(kinds.get(name, [])), "calls": 0, "failures": 0, "state": "closed",
                         "consecutive_failures": 0}
            if self._breaker is not None:
                state = await self._breaker.state(breaker_name)
                out[name].update(calls=state["calls"], failures=state["failures"], state=state["state"],
                                 consecutive_failures=state["consecutive_failures"])
        return out
