"""Request and response models of the accounts endpoints (used by controllers/accounts.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from controllers.schemas.base import RequestBody
from controllers.schemas.common import UserOut


class RegisterIn(RequestBody):
    email: str = Field(min_length=3, max_length=320)
    password: SecretStr = Field(max_length=4096)
    name: str | None = Field(default=None, max_length=200)


class LoginIn(RequestBody):
    email: str = Field(min_length=1, max_length=320)
    password: SecretStr = Field(max_length=4096)


class TokenIn(RequestBody):
    token: str = Field(min_length=1, max_length=512)


class ForgotIn(RequestBody):
    email: str = Field(min_length=1, max_length=320)


class ResetIn(RequestBody):
    token: str = Field(min_length=1, max_length=512)
    password: SecretStr = Field(max_length=4096)


class SessionOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


class VerifiedOut(BaseModel):
    email: str
    email_verified: bool
    email_verified_at: str | None


class AcceptedOut(BaseModel):
    status: str
