"""The data export job (contract §20): its record, as stored, pushed and answered."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

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
