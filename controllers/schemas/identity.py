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


class ExportProgress(BaseModel):
    sections_done: int = Field(ge=0, le=6, description="Files of the archive written so far.")
    sections_total: int = Field(ge=6, le=6)
    items: int = Field(ge=0, le=2**53, description="Records written so far.")


class ExportOut(BaseModel):
    """A data export (contract §20): queued → in_progress → completed (downloadable until
    `expires_at`, 24 h) | failed; `expired` once its archive was deleted."""

    id: str = Field(max_length=64)
    object: str = Field(max_length=16)
    status: str = Field(max_length=16, description="queued, in_progress, completed, failed or expired")
    progress: ExportProgress
    files: list[str] = Field(max_length=6, description="The archive's files, in the order written.")
    size_bytes: int | None = Field(default=None, ge=0, le=2**53)
    download_url: str | None = Field(default=None, max_length=128)
    error: str | None = Field(default=None, max_length=200)
    created_at: str = Field(max_length=40)
    completed_at: str | None = Field(default=None, max_length=40)
    expires_at: str | None = Field(default=None, max_length=40)
