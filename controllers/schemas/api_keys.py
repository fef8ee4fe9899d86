"""Request and response models of the api keys endpoints (used by controllers/api_keys.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

from controllers.schemas.base import RequestBody
from services.platform.key_limits import Scope


def _not_a_boolean(value: object) -> object:
    if isinstance(value, bool):  # JSON true/false is no number of credits (pydantic would read 1/0)
        raise ValueError("a whole number of credits, not true or false")
    return value


Count = Annotated[int, Field(ge=0, le=10**9), BeforeValidator(_not_a_boolean)]


class ApiKeyLimitsIn(RequestBody):
    """An API key's limits (contract §19); on PATCH only the fields sent change, `null` clears one."""

    scopes: list[Scope] | None = Field(default=None, min_length=1, max_length=5,
                                       description="Routes the key may call (default: all).")
    expires_at: AwareDatetime | None = Field(default=None, description="RFC 3339, in the future.")
    daily_credit_cap: Count | None = Field(default=None,
                                         description="Credits per UTC day.")
    monthly_credit_cap: Count | None = Field(default=None,
                                           description="Credits per UTC month.")
    models: list[str] | None = Field(default=None, max_length=100,
                                     description="Allowed catalogue model names (default: all).")
    allowed_ips: list[str] | None = Field(default=None, max_length=100,
                                          description="Client networks (CIDR) the key may be used from.")


class CreateApiKeyIn(ApiKeyLimitsIn):
    name: str = Field(min_length=1, max_length=100)


class PatchApiKeyIn(ApiKeyLimitsIn):
    name: str | None = Field(default=None, min_length=1, max_length=100)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None = None
    scopes: list[str] = Field(default_factory=list)
    expires_at: str | None = None
    daily_credit_cap: int | None = None
    monthly_credit_cap: int | None = None
    models: list[str] | None = None
    allowed_ips: list[str] | None = None
    spent_today: int = 0
    spent_this_month: int = 0


class ApiKeyCreatedOut(ApiKeyOut):
    key: str


class ApiKeyListOut(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None = None

