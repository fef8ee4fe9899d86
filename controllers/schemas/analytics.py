"""Request and response models of `GET /api/v1/admin/analytics` (contract §19)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from controllers.schemas.usage import PeriodQuery


class AnalyticsQuery(PeriodQuery):
    pass


class AnalyticsDay(BaseModel):
    date: str
    revenue_usd: float = Field(description="Payments captured that day (PayPal, Stripe) less refunds made.")
    refunds_usd: float
    provider_cost_usd: float = Field(description="What the day's provider calls cost (the price table).")
    margin_usd: float = Field(description="revenue_usd less provider_cost_usd.")
    credits_spent: int = Field(description="Credits charged that day, net of refunds.")
    active_users: int = Field(description="Users with a charged request that day.")


class AnalyticsGroup(BaseModel):
    requests: int
    credits_spent: int
    tokens_in: int
    tokens_out: int
    provider_cost_usd: float
    revenue_usd: float
    margin_usd: float


class AnalyticsPlan(AnalyticsGroup):
    plan: str = Field(description="The plan charged under (revenue: of the plan's payers).")


class AnalyticsModel(AnalyticsGroup):
    model: str = Field(description="The catalogue model (revenue: the period's, shared by credits spent).")


class AnalyticsUser(BaseModel):
    user_id: str
    email: str | None
    requests: int
    credits_spent: int
    provider_cost_usd: float


class AnalyticsTotals(BaseModel):
    revenue_usd: float
    provider_cost_usd: float
    margin_usd: float
    credits_spent: int


class AnalyticsOut(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    currency: str
    other_currency_payments: int = Field(description="Payments in another currency, left out of revenue.")
    totals: AnalyticsTotals
    days: list[AnalyticsDay]
    by_plan: list[AnalyticsPlan]
    by_model: list[AnalyticsModel]
    top_users_by_cost: list[AnalyticsUser]
