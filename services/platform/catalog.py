"""The plan catalogue: plans, gift tiers, credit packs, prices and chat models (contract §1, §3).

Configurable: `CATALOG_JSON` replaces whole sections (`plans`, `gift_tiers`,
`credit_packs`, `prices`, `models`). A payment processor's own plan ids are not part of
the catalogue: the processor's adapter maps plan names to them (`PAYPAL_PLAN_IDS`). `CHAT_MODELS` (JSON
`{"name": {"gemini": "...", "openai": "...", "min_role": "SUBSCRIBER", "price": 5}}`)
adds or replaces chat models by name (`null` removes one); a `default` model must remain.
Embedding models (contract §12) are the `embedding_models` section, `EMBEDDING_MODELS` applied by
name the same way (services/platform/embedding_models.py).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from services.platform.embedding_models import EmbeddingModel, default_embedding_models, embedding_models
from services.platform.errors import NotFound, ValidationFailed
from services.platform.principal import Role


class Plan(BaseModel):
    """A plan: a daily allowance (UTC day) and the role it gives."""

    name: str
    daily_credits: int = Field(ge=0)
    role: str = "USER"
    price_usd: str | None = None
    interval: str | None = None


class GiftTier(BaseModel):
    """A gift quota: `credits` in total, valid `days` days after redemption."""

    name: str
    credits: int = Field(gt=0)
    days: int = Field(gt=0)


class CreditPack(BaseModel):
    """A one-off purchasable pack of credits."""

    name: str
    credits: int = Field(gt=0)
    price: str
    currency: str = "USD"

    @field_validator("price")
    @classmethod
    def _decimal(cls, value: str) -> str:
        return str(Decimal(value).quantize(Decimal("0.01")))


class ChatModel(BaseModel):
    """A chat model clients ask for by `name`: each provider's model id, the role it needs, its price."""

    name: str
    min_role: str = "USER"
    price: int | None = Field(default=None, ge=0)  # None: the `chat` price
    provider_models: dict[str, str] = Field(default_factory=dict)  # provider → its model id

    @model_validator(mode="before")
    @classmethod
    def _provider_keys(cls, data: Any) -> Any:
        """`{"gemini": "gemini-2.5-pro", "min_role": ...}`: unknown keys name providers."""
        if not isinstance(data, dict):
            return data
        known = {k: v for k, v in data.items() if k in cls.model_fields}
        extra = {k: v for k, v in data.items() if k not in cls.model_fields}
        return {**known, "provider_models": {**(known.get("provider_models") or {}), **extra}}

    @field_validator("min_role")
    @classmethod
    def _role(cls, value: str) -> str:
        return Role.parse(value).name

    def cost(self, chat_price: int) -> int:
        """Credits per answer: the model's own price, else the catalogue's `chat` price."""
        return self.price if self.price is not None else chat_price


class ModelOffer(BaseModel):
    """What `GET /api/v1/plans` tells clients about a chat model."""

    name: str
    min_role: str
    price: int


DEFAULT_PRICES = {"chat": 1, "chat_image": 1, "image": 1, "image_edit": 2, "image_describe": 1,
                  "video_per_second": 10,  # chat_image: per image in a chat request (contract §18)
                  "embedding_per_1k": 1}  # per 1 000 input tokens of /v1/embeddings, rounded up (§12)


def default_chat_models(*, gemini: str = "gemini-2.5-flash", openai: str = "gpt-4o-mini") -> list[ChatModel]:
    """`default` (the configured provider models, for everyone) and the premium `pro`."""
    return [
        ChatModel(name="default", min_role="USER", provider_models={"gemini": gemini, "openai": openai}),
        ChatModel(name="pro", min_role="SUBSCRIBER", price=5,
                  provider_models={"gemini": "gemini-2.5-pro", "openai": "gpt-4o"}),
    ]


def _chat_models(settings: Any, section: list[Any] | None) -> list[dict[str, Any]]:
    """The `models` section (CATALOG_JSON or defaults) with `CHAT_MODELS` applied by name."""
    if section is None:
        section = [m.model_dump() for m in default_chat_models(
            gemini=getattr(settings, "gemini_model", None) or "gemini-2.5-flash",
            openai=getattr(settings, "openai_model", None) or "gpt-4o-mini")]
    models = {m["name"]: m for m in section}
    for name, spec in (getattr(settings, "chat_models", None) or {}).items():
        if spec is None:
            models.pop(name, None)
        else:
            models[name] = {**spec, "name": name}
    return list(models.values())


def _default_plans() -> list[Plan]:
    return [
        Plan(name="free", daily_credits=25, role="USER", price_usd="0.00"),
        Plan(name="starter", daily_credits=500, role="SUBSCRIBER", price_usd="9.99", interval="month"),
        Plan(name="enterprise", daily_credits=5000, role="SUBSCRIBER", price_usd="49.99", interval="month"),
    ]


def _default_gift_tiers() -> list[GiftTier]:
    return [GiftTier(name="gift_999", credits=999, days=30),
            GiftTier(name="gift_1499", credits=1499, days=60)]


def _default_packs() -> list[CreditPack]:
    return [
        CreditPack(name="credits_100", credits=100, price="4.99"),
        CreditPack(name="credits_500", credits=500, price="19.99"),
        CreditPack(name="credits_2000", credits=2000, price="69.99"),
    ]


class Catalog(BaseModel):
    """Everything a client needs to show prices; the credits service reads limits from it."""

    plans: list[Plan] = Field(default_factory=_default_plans)
    gift_tiers: list[GiftTier] = Field(default_factory=_default_gift_tiers)
    credit_packs: list[CreditPack] = Field(default_factory=_default_packs)
    prices: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    models: list[ChatModel] = Field(default_factory=default_chat_models)
    embedding_models: list[EmbeddingModel] = Field(default_factory=default_embedding_models)
    default_plan: str = "free"

    @model_validator(mode="after")
    def _has_default_model(self) -> Catalog:
        if not any(m.name == "default" for m in self.models):
            raise ValueError("the chat model catalogue needs a model called 'default'")
        return self

    @classmethod
    def default(cls, settings: Any = None) -> Catalog:
        """The contract defaults, with `CATALOG_JSON` sections applied (processor plan ids: app/config.py)."""
        data: dict[str, Any] = {}
        raw = getattr(settings, "catalog_json", None)
        if raw:
            data = json.loads(raw)
        data["models"] = _chat_models(settings, data.get("models"))
        data["embedding_models"] = embedding_models(settings, data.get("embedding_models"))
        return cls.model_validate(data)

    def plan(self, name: str | None) -> Plan:
        """The plan called `name`; the default plan when unknown."""
        for plan in self.plans:
            if plan.name == name:
                return plan
        return next(p for p in self.plans if p.name == self.default_plan)

    def plan_or_raise(self, name: str) -> Plan:
        """The plan called `name`; NotFound otherwise."""
        for plan in self.plans:
            if plan.name == name:
                return plan
        raise NotFound(f"No plan called {name!r}.")

    def gift_tier(self, name: str) -> GiftTier:
        """The gift tier called `name`; 422 otherwise."""
        for tier in self.gift_tiers:
            if tier.name == name:
                return tier
        raise ValidationFailed(f"Unknown gift tier {name!r}.",
                               errors=[{"loc": ["body", "tier"], "msg": "unknown gift tier"}])

    def pack(self, name: str) -> CreditPack:
        """The credit pack called `name`; 422 otherwise."""
        for pack in self.credit_packs:
            if pack.name == name:
                return pack
        raise ValidationFailed(f"Unknown credit pack {name!r}.",
                               errors=[{"loc": ["body", "pack"], "msg": "unknown credit pack"}])

    def price(self, kind: str, units: int = 1) -> int:
        """Credits for `units` of `kind` (e.g. 4 images)."""
        return self.prices[kind] * units

    def chat_model(self, name: str) -> ChatModel | None:
        """The chat model called `name`, if any."""
        return next((m for m in self.models if m.name == name), None)

    def embedding_model(self, name: str) -> EmbeddingModel | None:
        """The embedding model called `name`, if any."""
        return next((m for m in self.embedding_models if m.name == name), None)

    def chat_price(self, model: ChatModel) -> int:
        """Credits for one answer of `model` (its own price, else the `chat` price)."""
        return model.cost(self.prices["chat"])

    def public(self) -> dict[str, Any]:
        """The `GET /api/v1/plans` body."""
        return {
            "plans": [p.model_dump() for p in self.plans],
            "gift_tiers": [t.model_dump() for t in self.gift_tiers],
            "credit_packs": [p.model_dump() for p in self.credit_packs],
            "prices": dict(self.prices),
            "models": [ModelOffer(name=m.name, min_role=m.min_role, price=self.chat_price(m)).model_dump()
                       for m in self.models],
        }
