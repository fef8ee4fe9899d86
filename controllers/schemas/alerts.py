"""Request and response models of the budget alerts (contract §19)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from controllers.schemas.admin import _json_integer
from controllers.schemas.base import RequestBody
from services.admin.alerts import MAX_DAILY_COST_USD, MAX_MONTHLY_CREDITS


def _json_number(value: object) -> object:
    """A JSON number, never "5" or true."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be a valid number")
    return value


MonthlyCredits = Annotated[int, Field(ge=1, le=MAX_MONTHLY_CREDITS), BeforeValidator(_json_integer)]


DailyUsd = Annotated[float, Field(ge=0.01, le=MAX_DAILY_COST_USD, allow_inf_nan=False),
                     BeforeValidator(_json_number)]


class UserAlertIn(RequestBody):
    monthly_credits: MonthlyCredits | None = Field(
        description="Email me once a UTC month when I have spent this many credits (null: no alert).")


class UserAlertOut(BaseModel):
    monthly_credits: int | None
    period: str = Field(description="The UTC month, YYYY-MM.")
    spent_this_month: int = Field(description="Credits spent this UTC month, net of refunds.")
    crossed: bool = Field(description="The threshold is reached this month (the web app shows a banner).")
    notified_at: str | None = Field(description="When this month's email went out.")


class ServiceAlertIn(RequestBody):
    daily_provider_cost_usd: DailyUsd | None = Field(
        description="Email me once a UTC day when the service's provider cost reaches this (null: no alert).")


class ServiceAlertOut(BaseModel):
    daily_provider_cost_usd: float | None
    period: str = Field(description="The UTC day, YYYY-MM-DD.")
    cost_today_usd: float = Field(description="Provider cost of the UTC day so far (the price table).")
    crossed: bool
    notified_at: str | None
