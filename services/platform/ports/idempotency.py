"""The idempotency keys' storage port and its record."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel


class IdempotencyRecord(BaseModel):
    id: str
    scope: str
    key: str
    fingerprint: str
    state: str = "in_flight"
    status: int | None = None
    body: str | None = None
    content_type: str | None = None
    location: str | None = None  # the `Location` header of a 201/202, replayed with the body
    created_at: datetime
    locked_until: datetime
    expires_at: datetime


class IdempotencyRepository(Protocol):
    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None: ...
    async def take_over(self, record: IdempotencyRecord, *, now: datetime) -> bool: ...
    async def complete(self, record_id: str, *, status: int, body: str, content_type: str,
                       location: str | None = None) -> None: ...
    async def release(self, record_id: str) -> None: ...
