"""Admin analytics (contract §19): HTTP ⇄ AnalyticsService."""

from __future__ import annotations

from typing import Any

from controllers.schemas.analytics import AnalyticsOut, AnalyticsQuery
from services.admin.analytics import AnalyticsService


class AdminAnalyticsController:
    def __init__(self, analytics: AnalyticsService) -> None:
        self._analytics = analytics

    async def analytics(self, query: AnalyticsQuery) -> dict[str, Any]:
        """Revenue, provider cost and margin per day, plan and model; the costliest users."""
        body = await self._analytics.analytics(first=query.from_, last=query.to)
        return AnalyticsOut.model_validate(body).model_dump(by_alias=True)
