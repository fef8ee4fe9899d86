"""Request and response models of `GET /api/v1/usage` (contract §19; used by controllers/usage.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PeriodQuery(BaseModel):
    """A period of UTC days (`from`, `to`): the usage report's and the admin analytics'."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | None = Field(default=None, alias="from", max_length=10, json_schema_extra={"format": "date"},
                              description="First UTC day, YYYY-MM-DD (default: 29 days before `to`).")
    to: str | None = Field(default=None, max_length=10, json_schema_extra={"format": "date"},
                           description="Last UTC day, YYYY-MM-DD (default: today); at most 366 days "
                           "after `from`.")


class UsageQuery(PeriodQuery):
    group_by: Literal["day", "kind", "model", "api_key"] = "day"


class UsageCounters(BaseModel):
    requests: int
    credits: int = Field(description="Credits spent, net of refunds.")
    refunded_credits: int
    tokens_in: int
    tokens_out: int
    images: int
    video_seconds: int


class UsageRow(UsageCounters):
    key: str | None = Field(description="The day, kind, model or API key id (null: none, e.g. a session).")


class UsageReportOut(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    group_by: str
    rows: list[UsageRow]
    totals: UsageCounters
