"""Muse API keys (contract §7): `mk_live_` secrets, stored only as SHA-256 hashes.

Lookups are never cached, so a revoked key is refused by every process on its next request.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.platform.clock import utcnow
from services.platform.errors import NotFound

API_KEY_MARKER = "mk_"
LIVE_PREFIX = "mk_live_"
PREFIX_LEN = len(LIVE_PREFIX) + 6
LAST_USED_EVERY_S = 60.0


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key's public record (never the secret)."""

    id: str
    user_id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyRepository(Protocol):
    """Storage of API key records."""

    async def create(self, *, user_id: str, name: str, prefix: str, secret_hash: str) -> ApiKey: ...

    async def get_active_by_hash(self, secret_hash: str) -> ApiKey | None: ...

    async def list_for_user(self, user_id: str) -> list[ApiKey]: ...

    async def revoke(self, key_id: str, *, user_id: str, at: datetime) -> bool: ...

    async def revoke_all(self, user_id: str, *, at: datetime) -> int: ...

    async def touch(self, key_id: str, *, at: datetime) -> None: ...


def hash_secret(secret: str) -> str:
    """SHA-256 hex digest of a key secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyService:
    """Create, list, revoke and authenticate API keys."""

    def __init__(self, keys: ApiKeyRepository) -> None:
        self._keys = keys
        self._touched: dict[str, float] = {}

    async def create(self, user_id: str, *, name: str) -> tuple[ApiKey, str]:
        """A new key and its secret (shown once)."""
        secret = LIVE_PREFIX + secrets.token_urlsafe(32)
        key = await self._keys.create(
            user_id=user_id, name=name, prefix=secret[:PREFIX_LEN], secret_hash=hash_secret(secret)
        )
        return key, secret

    async def list(self, user_id: str) -> list[ApiKey]:
        """The user's active keys, newest first."""
        return await self._keys.list_for_user(user_id)

    async def revoke(self, user_id: str, key_id: str) -> None:
        """Revoke one of the user's keys; NotFound when it is not theirs or already revoked."""
        if not await self._keys.revoke(key_id, user_id=user_id, at=utcnow()):
            raise NotFound("No such API key.")

    async def revoke_all(self, user_id: str) -> int:
        """Revoke every key of a user; how many."""
        return await self._keys.revoke_all(user_id, at=utcnow())

    async def authenticate(self, secret: str) -> ApiKey | None:
        """The active key with this secret, or None."""
        if not secret.startswith(LIVE_PREFIX) or len(secret) > 200:
            return None
        key = await self._keys.get_active_by_hash(hash_secret(secret))
        if key is not None:
            now = time.monotonic()
            if now - self._touched.get(key.id, 0.0) > LAST_USED_EVERY_S:
                self._touched[key.id] = now
                await self._keys.touch(key.id, at=utcnow())
        return key
