"""Gift code endpoints: redemption by users, creation and listing by admins."""

from __future__ import annotations

from typing import Any

from controllers.schemas.gift_codes import (
    CreateGiftCodesIn,
    GiftCodeQuery,
    RedeemIn,
)
from services.credits.gift_codes import GiftCodeService
from services.credits.service import CreditsService
from services.platform.clock import utcnow
from services.platform.principal import Principal


class GiftCodesController:
    def __init__(self, codes: GiftCodeService, credits: CreditsService) -> None:
        self._codes, self._credits = codes, credits

    async def redeem(self, principal: Principal, data: RedeemIn, *, request_id: str | None) -> dict[str, Any]:
        """Redeem a code for the caller; their credits object afterwards."""
        await self._codes.redeem(principal.require_user_id(), data.code, request_id=request_id)
        return await self._credits.summary(principal.require_user_id(), plan=principal.plan)

    async def create(self, principal: Principal, data: CreateGiftCodesIn) -> tuple[dict[str, Any], int]:
        """Create codes (admin)."""
        codes = await self._codes.create(count=data.count, tier=data.tier, credits=data.credits,
                                         expires_at=data.expires_at, created_by=principal.user_id)
        now = utcnow()
        return {"codes": [c.public(now) for c in codes]}, 201

    async def list(self, query: GiftCodeQuery) -> dict[str, Any]:
        """A page of codes with their status (admin)."""
        items, cursor = await self._codes.list(limit=query.limit, cursor=query.cursor)
        now = utcnow()
        return {"items": [c.public(now) for c in items], "next_cursor": cursor}
