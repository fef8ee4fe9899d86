"""Usage per user (contract §19): JSON, or CSV with `Accept: text/csv`."""

from __future__ import annotations

from typing import Any

from controllers.schemas.usage import UsageQuery
from services.credits.usage import UsageService
from services.platform.principal import Principal


class UsageController:
    def __init__(self, usage: UsageService) -> None:
        self._usage = usage

    async def usage(self, principal: Principal, query: UsageQuery, *, csv: bool) -> Any:
        """The caller's usage between two UTC days, grouped by day, kind, model or API key."""
        report = await self._usage.usage(principal.require_user_id(), first=query.from_, last=query.to,
                                         group_by=query.group_by)
        if csv:
            name = f"muse-usage-{report.first}-{report.last}-{report.group_by}.csv"
            return report.as_csv(), 200, {"Content-Type": "text/csv; charset=utf-8",
                                          "Content-Disposition": f'attachment; filename="{name}"'}
        return report.as_dict()
