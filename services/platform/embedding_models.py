"""Embedding models of the catalogue (contract §12 `POST /v1/embeddings`).

An embedding model is a name clients ask for, bound to ONE provider: vectors of different providers
(or models) live in different spaces, so there is no failover across providers for embeddings.

    {"name": "embed-default"}                                   # the first configured of EMBEDDING_PROVIDERS
    {"name": "text-embedding-3-small", "provider": "openai", "model": "text-embedding-3-small"}
    {"name": "big", "provider": "openai", "model": "text-embedding-3-large", "min_role": "SUBSCRIBER"}

Limits (`dimensions`: the native and largest size, `min_dimensions`, `max_input_tokens` per input)
default to the provider model's known limits (`KNOWN_LIMITS`); an entry may state its own.
The `embedding_models` section of CATALOG_JSON replaces the defaults; `EMBEDDING_MODELS` (JSON
`{"name": {...} | null}`) adds, replaces or removes entries by name.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from services.platform.principal import Role

MAX_DIMENSIONS = 8192  # the largest `dimensions` a request may name (any model's limit is below it)


class EmbeddingLimits(BaseModel):
    """What a provider model accepts: output sizes and tokens per input."""

    dimensions: int = Field(ge=1, le=MAX_DIMENSIONS)  # native size, and the largest asked for
    min_dimensions: int = Field(default=1, ge=1, le=MAX_DIMENSIONS)
    max_input_tokens: int = Field(default=8192, ge=1)


# Each provider's published limits (Gemini: 128–3072 dimensions, 2 048 tokens per input; OpenAI:
# text-embedding-3 any size up to its native one, 8 192 tokens per input; ada-002 fixed at 1536).
KNOWN_LIMITS: dict[str, EmbeddingLimits] = {
    "gemini-embedding-001": EmbeddingLimits(dimensions=3072, min_dimensions=128, max_input_tokens=2048),
    "text-embedding-3-small": EmbeddingLimits(dimensions=1536),
    "text-embedding-3-large": EmbeddingLimits(dimensions=3072),
    "text-embedding-ada-002": EmbeddingLimits(dimensions=1536, min_dimensions=1536),
    "muse-local-embedding": EmbeddingLimits(dimensions=1024),
}
# A model Muse knows nothing of: the provider decides.
UNKNOWN_LIMITS = EmbeddingLimits(dimensions=MAX_DIMENSIONS)


class EmbeddingModel(BaseModel):
    """An embedding model clients ask for by `name`, answered by one provider."""

    name: str = Field(min_length=1, max_length=200)
    provider: str | None = None  # None: the first configured of EMBEDDING_PROVIDERS (local when none)
    model: str | None = None  # the provider's model id (None: the provider's default model)
    min_role: str = "USER"
    dimensions: int | None = Field(default=None, ge=1, le=MAX_DIMENSIONS)
    min_dimensions: int | None = Field(default=None, ge=1, le=MAX_DIMENSIONS)
    max_input_tokens: int | None = Field(default=None, ge=1)

    @field_validator("min_role")
    @classmethod
    def _role(cls, value: str) -> str:
        return Role.parse(value).name

    def limits(self, model_id: str) -> EmbeddingLimits:
        """The limits for this entry answered by provider model `model_id` (the entry's own first)."""
        known = KNOWN_LIMITS.get(model_id, UNKNOWN_LIMITS)
        return EmbeddingLimits(
            dimensions=self.dimensions or known.dimensions,
            min_dimensions=self.min_dimensions or known.min_dimensions,
            max_input_tokens=self.max_input_tokens or known.max_input_tokens)


def default_embedding_models() -> list[EmbeddingModel]:
    """`embed-default` (the first configured provider) and each provider's model under its own name."""
    return [
        EmbeddingModel(name="embed-default"),
        EmbeddingModel(name="gemini-embedding-001", provider="gemini", model="gemini-embedding-001"),
        EmbeddingModel(name="text-embedding-3-small", provider="openai", model="text-embedding-3-small"),
    ]


def embedding_models(settings: Any, section: list[Any] | None) -> list[dict[str, Any]]:
    """The `embedding_models` section (CATALOG_JSON or defaults) with `EMBEDDING_MODELS` applied by name."""
    if section is None:
        section = [m.model_dump(exclude_none=True) for m in default_embedding_models()]
    models = {m["name"]: m for m in section}
    for name, spec in (getattr(settings, "embedding_models", None) or {}).items():
        if spec is None:
            models.pop(name, None)
        else:
            models[name] = {**spec, "name": name}
    return list(models.values())
