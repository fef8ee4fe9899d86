"""Credits endpoints: the caller's credits object and ledger; admin adjustments."""

from __future__ import annotations

from typing import Any

from controllers.schemas.common import entry_out
from controllers.schemas.credits import LedgerQuery
from services.credits.service import CreditsService
from services.platform.principal import Principal


class CreditsController:
    def __init__(self, credits: CreditsService) -> None:
        self._credits = credits

    async def summary(self, principal: Principal) -> dict[str, Any]:
        """The caller's credits object."""
        return await self._credits.summary(principal.require_user_id(), plan=principal.plan)

    async def ledger(self, principal: Principal, query: LedgerQuery) -> dict[str, Any]:
        """A page of the caller's ledger, newest first."""
        items, cursor = await self._credits.ledger(principal.require_user_id(), limit=query.limit,
                                                   cursor=query.cursor)
        return {"items": [entry_out(op) for op in items], "next_cursor": cursor}
