"""Request and response models of the credits endpoints (used by controllers/credits.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from controllers.schemas.base import CURSOR_MAX
from controllers.schemas.common import LedgerEntryOut


class LedgerQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX)


class LedgerPageOut(BaseModel):
    items: list[LedgerEntryOut]
    next_cursor: str | None
