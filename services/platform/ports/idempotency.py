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
    location: str | None = None  # the `Location` of a 201/202 in records stored before `headers`
    headers: dict[str, str] = {}  # the response headers replayed with the body (Location, X-Muse-*)
    created_at: datetime
    locked_until: datetime
    expires_at: datetime


class IdempotencyRepository(Protocol):
    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None: ...
    async def take_over(self, record: IdempotencyRecord, *, now: datetime) -> bool: ...
    async def complete(self, record_id: str, *, status: int, body: str, content_type: str,
                       headers: dict[str, str]) -> None: ...
    async def release(self, record_id: str) -> None: ...
