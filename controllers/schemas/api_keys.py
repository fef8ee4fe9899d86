"""Request and response models of the api keys endpoints (used by controllers/api_keys.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from controllers.schemas.base import RequestBody


class CreateApiKeyIn(RequestBody):
    name: str = Field(min_length=1, max_length=100)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None = None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str


class ApiKeyListOut(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None = None
