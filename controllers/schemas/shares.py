"""Request and response models of the shares endpoints (used by controllers/shares.py)."""

from __future__ import annotations

from pydantic import BaseModel


class ShareOut(BaseModel):
    url: str
    token: str
