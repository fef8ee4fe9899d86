"""Request and response models of the gift codes endpoints (used by controllers/gift_codes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, RootModel, field_validator

from controllers.schemas.base import CURSOR_MAX, RequestBody

MAX_GIFT_CREDITS = 1_000_000  # per code (a tier is of the catalogue)


class RedeemIn(RequestBody):
    code: str = Field(min_length=1, max_length=64, description="Case-insensitive; dashes optional.")


def _rfc3339(value: Any) -> Any:
    """Only an RFC 3339 string (or null) is a time here; pydantic would also take a number."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("Input should be an RFC 3339 date-time string")
    return value


class CreateGiftCodesIn(RequestBody):
    tier: str | None = Field(default=None, description="A gift tier of the catalogue, e.g. gift_999.")
    credits: int | None = Field(default=None, gt=0, le=MAX_GIFT_CREDITS,
                                description="Plain balance credits instead of a tier.")
    count: int = Field(default=1, ge=1, le=1000)
    expires_at: datetime | None = Field(default=None, description="Last moment the code can be redeemed.")

    @field_validator("expires_at", mode="before")
    @classmethod
    def _expires_at_is_a_string(cls, value: Any) -> Any:
        return _rfc3339(value)


class _CodesOptions(RequestBody):
    count: int = Field(default=1, ge=1, le=1000)
    expires_at: datetime | None = Field(default=None, description="Last moment the code can be redeemed.")


class TierCodesIn(_CodesOptions):
    tier: str = Field(description="A gift tier of the catalogue, e.g. gift_999.",
                      json_schema_extra={"x-muse-choices": "gift_tiers"})


class CreditCodesIn(_CodesOptions):
    credits: int = Field(gt=0, le=MAX_GIFT_CREDITS, description="Plain balance credits.")


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
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX)


class GiftCodePageOut(BaseModel):
    items: list[GiftCodeOut]
    next_cursor: str | None
