"""Request and response models of the identity endpoints (`/api/v1/me`, `/api/v1/whoami`)."""

from __future__ import annotations

from pydantic import BaseModel

from controllers.schemas.common import CreditsOut, UserOut


class MeOut(UserOut):
    credits: CreditsOut | None = None


class WhoAmIOut(BaseModel):
    user_id: str | None
    kind: str
    role: str
