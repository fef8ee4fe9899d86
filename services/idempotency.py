"""Idempotency keys (contract §1): the first response to a key is replayed for 24 h.

`begin` claims the key (one insert, unique by principal + key) or answers
with what is stored: the same fingerprint and a finished response → replay;
a different fingerprint → 422 `idempotency_mismatch`; still running → 409.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel

from services.clock import utcnow
from services.errors import IdempotencyInFlight, IdempotencyMismatch, ValidationFailed

TTL = timedelta(hours=24)
LOCK = timedelta(minutes=5)  # an in-flight claim older than this belongs to a dead request


class IdempotencyRecord(BaseModel):
    id: str
    scope: str
    key: str
    fingerprint: str
    state: str = "in_flight"
    status: int | None = None
    body: str | None = None
    content_type: str | None = None
    created_at: datetime
    locked_until: datetime
    expires_at: datetime


class IdempotencyRepository(Protocol):
    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None: ...
    async def take_over(self, record: IdempotencyRecord, *, now: datetime) -> bool: ...
    async def complete(self, record_id: str, *, status: int, body: str, content_type: str) -> None: ...
    async def release(self, record_id: str) -> None: ...


def fingerprint(*parts: bytes | str) -> str:
    """A hash of what makes two requests 'the same' (method, path, query, body)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


class IdempotencyService:
    """Claims keys, replays stored responses."""

    def __init__(self, records: IdempotencyRepository, *, ttl: timedelta = TTL,
                 lock: timedelta = LOCK) -> None:
        self._records, self._ttl, self._lock = records, ttl, lock

    @staticmethod
    def record_id(scope: str, key: str) -> str:
        """The stored id of a principal's key."""
        return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()

    async def begin(self, scope: str, key: str, print_: str) -> IdempotencyRecord | None:
        """None: go ahead (the key is now ours). A record: replay it. Raises 409/422 otherwise."""
        if not 1 <= len(key) <= 255:
            raise ValidationFailed("Idempotency-Key must be 1..255 characters.",
                                   errors=[{"loc": ["header", "Idempotency-Key"],
                                            "msg": "1..255 characters"}])
        now = utcnow()
        mine = IdempotencyRecord(id=self.record_id(scope, key), scope=scope, key=key, fingerprint=print_,
                                 created_at=now, locked_until=now + self._lock, expires_at=now + self._ttl)
        existing = await self._records.claim(mine)
        if existing is None:
            return None
        if existing.expires_at <= now or (existing.state == "in_flight" and existing.locked_until <= now):
            if await self._records.take_over(mine, now=now):
                return None
            raise IdempotencyInFlight()
        if existing.fingerprint != print_:
            raise IdempotencyMismatch()
        if existing.state != "done":
            raise IdempotencyInFlight()
        return existing

    async def complete(self, scope: str, key: str, *, status: int, body: str, content_type: str) -> None:
        """Store the first response for replay."""
        await self._records.complete(self.record_id(scope, key), status=status, body=body,
                                     content_type=content_type)

    async def abandon(self, scope: str, key: str) -> None:
        """Forget an unfinished claim (the request failed in a retryable way)."""
        await self._records.release(self.record_id(scope, key))
