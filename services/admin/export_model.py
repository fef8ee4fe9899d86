"""The data export job (contract §20): its record, as stored, pushed and answered."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, field_validator

RUNNING = ("queued", "in_progress")
# Each file of the archive, in the order written (the job's progress counts them).
SECTIONS = ("profile.json", "conversations.json", "images.json", "ledger.json", "payments.json",
            "api_keys.json")


class ExportJob(BaseModel):
    """One export of a user's data: queued → in_progress → completed | failed; completed ones are
    kept until `expires_at`, then deleted (records and archive)."""

    id: str
    user_id: str
    status: str = "queued"
    sections_done: int = 0
    items: int = 0  # records written so far
    size_bytes: int | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    expires_at: datetime | None = None

    @field_validator("created_at", "updated_at", "completed_at", "expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """Stored datetimes may come back naive (UTC): always compare aware ones."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
