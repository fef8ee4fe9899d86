"""Gift code endpoints: redemption by users, creation and listing by admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, RootModel, field_validator

from services.clock import utcnow
from services.credits import CreditsService
from services.gift_codes import GiftCodeService
from services.principal import Principal


class RedeemIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="Case-insensitive; dashes optional.")


def _rfc3339(value: Any) -> Any:
    """Only an RFC 3339 string (or null) is a time here; pydantic would also take a number."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("Input should be an RFC 3339 date-time string")
    return value


class CreateGiftCodesIn(BaseModel):
    tier: str | None = Field(default=None, description="A gift tier of the catalogue, e.g. gift_999.")
    credits: int | None = Field(default=None, gt=0, description="Plain balance credits instead of a tier.")
    count: int = Field(default=1, ge=1, le=1000)
    expires_at: datetime | None = Field(default=None, description="Last moment the code can be redeemed.")

    @field_validator("expires_at", mode="before")
    @classmethod
    def _expires_at_is_a_string(cls, value: Any) -> Any:
        return _rfc3339(value)


class _CodesOptions(BaseModel):
    count: int = Field(default=1, ge=1, le=1000)
    expires_at: datetime | None = Field(default=None, description="Last moment the code can be redeemed.")


class TierCodesIn(_CodesOptions):
    tier: str = Field(description="A gift tier of the catalogue, e.g. gift_999.",
                      json_schema_extra={"x-muse-choices": "gift_tiers"})


class CreditCodesIn(_CodesOptions):
    credits: int = Field(gt=0, description="Plain balance credits.")


class CreateGiftCodesDoc(RootModel[TierCodesIn | CreditCodesIn]):
    """Exactly one of `tier` or `credits` (the document of CreateGiftCodesIn)."""


class GiftCodeOut(BaseModel):
    code: str
    tier: str | None
    credits: int | None
    status: str
    expires_at: str | None
    created_at: str
    created_by: str | None
    redeemed_by: str | None
    redeemed_at: str | None


class GiftCodesOut(BaseModel):
    codes: list[GiftCodeOut]


class GiftCodeQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


class GiftCodePageOut(BaseModel):
    items: list[GiftCodeOut]
    next_cursor: str | None


class GiftCodesController:
    def __init__(self, codes: GiftCodeService, credits: CreditsService) -> None:
        self._codes, self._credits = codes, credits

    async def redeem(self, principal: Principal, data: RedeemIn, *, request_id: str | None) -> dict[str, Any]:
        """Redeem a code for the caller; their credits object afterwards."""
        await self._codes.redeem(principal.user_id or "", data.code, request_id=request_id)
        return await self._credits.summary(principal.user_id or "", plan=principal.plan)

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
