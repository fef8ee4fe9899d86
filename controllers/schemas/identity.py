"""Request and response models of the identity endpoints (`/api/v1/me`, `/api/v1/whoami`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from controllers.schemas.common import CreditsOut, UserOut


class MeOut(UserOut):
    credits: CreditsOut | None = None


class WhoAmIOut(BaseModel):
    user_id: str | None
    kind: str
    role: str


class DeleteMeIn(BaseModel):
    """`DELETE /api/v1/me` (contract §20): Muse's own accounts re-authenticate with their password."""

    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(default=None, min_length=1, max_length=1024,
                                 description="Required for an email-and-password account; absent for Clerk.")


class DeletedCounts(BaseModel):
    api_keys: int
    sessions: int
    conversations: int
    media: int
    shares: int
    responses: int
    subscriptions: int


class AccountDeletedOut(BaseModel):
    """The account is deleted: signed out everywhere, its data removed; the ledger and payments stay
    for accounting under the user id only."""

    user_id: str
    status: str
    deleted: DeletedCounts
