"""Request and response models of the dev endpoints (controllers/dev.py, dev_outbox.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from controllers.schemas.base import RequestBody


class DevTokenIn(RequestBody):
    user: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:@-]+$")
    role: Literal["USER", "SUBSCRIBER", "ADMIN"] | None = None
    email: str | None = Field(default=None, max_length=254)


class DevTokenOut(BaseModel):
    token: str


class AuthConfigOut(BaseModel):
    provider: Literal["clerk", "local", "dev", "none"]
    clerk_publishable_key: str | None = None


class ClientConfigOut(BaseModel):
    app_env: str
    auth: AuthConfigOut
    max_upload_mb: float


class OutboxQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=200, description="How many messages, newest first.")


class OutboxMessageOut(BaseModel):
    id: str
    to: str
    sender: str
    subject: str
    text: str
    sent_at: str


class OutboxOut(BaseModel):
    items: list[OutboxMessageOut]
