"""Request and response models of the admin API (contract §9)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StringConstraints

from controllers.schemas.base import CURSOR_MAX, RequestBody
from controllers.schemas.common import AdminLedgerEntryOut, CreditsOut, UserOut
from services.platform.live_settings import MAX_PRICED_MODELS, MAX_SIGNUP_CREDITS
from services.platform.prices import MAX_MODEL_NAME, MAX_PRICE


def _json_integer(value: Any) -> Any:
    """A JSON integer: 5 or 5.0 (JSON Schema's `integer`), never "5" or true."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be a valid integer")
    return value


# Strict about strings and booleans, but 5.0 is the integer 5 (as JSON Schema says).
# bounds before the validator inside the Annotated, so the document shows them as minimum/maximum
SignupCredits = Annotated[int, Field(ge=0, le=MAX_SIGNUP_CREDITS), BeforeValidator(_json_integer)]


Usd = Annotated[float, Field(ge=0, le=MAX_PRICE, allow_inf_nan=False)]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_MODEL_NAME)]


class ModelPrices(RequestBody):
    """USD a provider model costs (contract §19); omitted units cost nothing."""

    input_per_1m: Usd | None = Field(default=None, description="USD per 1M input (prompt) tokens.")
    output_per_1m: Usd | None = Field(default=None, description="USD per 1M output tokens.")
    per_image: Usd | None = Field(default=None, description="USD per image produced.")
    per_video_second: Usd | None = Field(default=None, description="USD per second of video produced.")


class LiveSettingsOut(BaseModel):
    maintenance_mode: bool
    chat_enabled: bool
    images_enabled: bool
    signup_credits: int
    providers: dict[str, bool]
    provider_prices: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Live USD prices per provider model (input_per_1m, output_per_1m, "
                                          "per_image, per_video_second), over PROVIDER_PRICES.")
    version: int
    updated_at: str | None
    updated_by: str | None


class LiveSettingsPatch(RequestBody):
    """A partial change; omitted (or null) fields stay as they are."""

    maintenance_mode: StrictBool | None = None
    chat_enabled: StrictBool | None = None
    images_enabled: StrictBool | None = None
    signup_credits: SignupCredits | None = None
    providers: dict[str, StrictBool] | None = Field(
        default=None, json_schema_extra={"x-muse-key-choices": "providers"})
    provider_prices: dict[ModelName, ModelPrices | None] | None = Field(
        default=None, max_length=MAX_PRICED_MODELS,
        description="USD prices per provider model (`<model>` or `<provider>/<model>`), merged per model "
                    "over the live ones; null for a model drops its live price (PROVIDER_PRICES applies).")


class AuditQuery(BaseModel):
    action: str | None = Field(default=None, max_length=100)
    target: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX)


class AuditEntryOut(BaseModel):
    id: str
    at: str
    actor_id: str
    action: str
    target: str | None
    before: dict
    after: dict
    request_id: str | None
    ip: str | None = None


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


class UserQuery(BaseModel):
    q: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX)


class AdminUserOut(UserOut):
    disabled: bool
    updated_at: str


class UserPage(BaseModel):
    items: list[AdminUserOut]
    next_cursor: str | None


class GenerationOut(BaseModel):
    type: str
    id: str
    status: str | None = None
    kind: str | None = None
    prompt: str | None = None
    conversation_id: str | None = None
    provider: str | None = None
    model: str | None = None
    cached: bool | None = None
    credits_charged: int | None = None
    created_at: str | None = None
    request_id: str | None = None


class AdminUserDetail(AdminUserOut):
    credits: CreditsOut | None
    ledger: list[AdminLedgerEntryOut]
    generations: list[GenerationOut]


class UserPatch(RequestBody):
    """Change a user's role, plan and/or disabled flag (omitted fields stay)."""

    role: Literal["USER", "SUBSCRIBER", "ADMIN"] | None = None
    plan: str | None = Field(default=None, min_length=1, max_length=64,
                             json_schema_extra={"x-muse-choices": "plans"})
    disabled: StrictBool | None = None


class CreditAdjustment(RequestBody):
    """Add (positive) or remove (negative) balance credits, with a reason for the ledger."""

    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000), BeforeValidator(_json_integer)] = Field(
        json_schema_extra={"not": {"const": 0}})
    reason: str = Field(min_length=1, max_length=500)


class CreditAdjustmentOut(BaseModel):
    entry: AdminLedgerEntryOut
    credits: CreditsOut


class StatsOut(BaseModel):
    generated_at: str
    users: dict[str, int]
    generations: dict[str, int]
    credits: dict[str, int]
    revenue_30d: dict[str, dict]
    providers: dict[str, dict]
    image_providers: dict[str, dict] = Field(default_factory=dict)
