"""API key records in MongoDB (`api_keys`, unique secret hash)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pymongo
from pydantic import Field

from repositories.documents import MuseDocument
from repositories.users import TombstoneCache
from services.identity.api_keys import ApiKey
from services.platform.clock import isoformat, utcnow
from services.platform.ids import new_id
from services.platform.key_limits import SCOPES


class ApiKeyDocument(MuseDocument):
    id: str = Field(default_factory=lambda: new_id("key"))  # type: ignore[assignment]  # our ids are strings
    user_id: str
    name: str
    prefix: str
    secret_hash: str
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    scopes: list[str] | None = None  # None: every scope
    expires_at: datetime | None = None
    daily_credit_cap: int | None = None
    monthly_credit_cap: int | None = None
    models: list[str] | None = None
    allowed_ips: list[str] | None = None

    class Settings:
        name = "api_keys"
        indexes = [
            pymongo.IndexModel([("secret_hash", pymongo.ASCENDING)], unique=True, name="secret_hash_unique"),
            pymongo.IndexModel([("user_id", pymongo.ASCENDING)], name="user_id"),
        ]


def _tuple(value: Any) -> tuple[str, ...] | None:
    return tuple(value) if value is not None else None


def _to_key(raw: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=raw["_id"], user_id=raw["user_id"], name=raw["name"], prefix=raw["prefix"],
        created_at=raw["created_at"], last_used_at=raw.get("last_used_at"), revoked_at=raw.get("revoked_at"),
        scopes=_tuple(raw.get("scopes")) or SCOPES, expires_at=raw.get("expires_at"),
        daily_credit_cap=raw.get("daily_credit_cap"), monthly_credit_cap=raw.get("monthly_credit_cap"),
        models=_tuple(raw.get("models")), allowed_ips=_tuple(raw.get("allowed_ips")),
    )


class BeanieApiKeyRepository:
    """API keys collection."""

    @property
    def _col(self):
        return ApiKeyDocument.get_pymongo_collection()

    async def create(self, *, user_id: str, name: str, prefix: str, secret_hash: str,
                     limits: dict[str, Any] | None = None) -> ApiKey:
        """Store a new key record."""
        doc = ApiKeyDocument(user_id=user_id, name=name, prefix=prefix, secret_hash=secret_hash,
                             **(limits or {}))
        await doc.insert()
        return _to_key(doc.model_dump(by_alias=True))

    async def update(self, key_id: str, *, user_id: str, changes: dict[str, Any]) -> ApiKey | None:
        """Set limits of a user's active key; the key as it is now, None when not theirs or revoked."""
        flt = {"_id": key_id, "user_id": user_id, "revoked_at": None}
        if changes:
            await self._col.update_one(flt, {"$set": changes})
        raw = await self._col.find_one(flt)
        return _to_key(raw) if raw else None

    async def get_active_by_hash(self, secret_hash: str) -> ApiKey | None:
        """The unrevoked key with this hash, or None."""
        raw = await self._col.find_one({"secret_hash": secret_hash, "revoked_at": None})
        return _to_key(raw) if raw else None

    async def list_for_user(self, user_id: str) -> list[ApiKey]:
        """A user's unrevoked keys, newest first."""
        rows = await self._col.find({"user_id": user_id, "revoked_at": None}).sort("_id", -1).to_list(1000)
        return [_to_key(raw) for raw in rows]

    async def revoke(self, key_id: str, *, user_id: str, at: datetime) -> bool:
        """Revoke a user's key; False when not found or already revoked."""
        result = await self._col.update_one(
            {"_id": key_id, "user_id": user_id, "revoked_at": None}, {"$set": {"revoked_at": at}}
        )
        return result.modified_count == 1

    async def revoke_all(self, user_id: str, *, at: datetime) -> int:
        """Revoke every key of a user."""
        result = await self._col.update_many(
            {"user_id": user_id, "revoked_at": None}, {"$set": {"revoked_at": at}})
        return result.modified_count

    async def touch(self, key_id: str, *, at: datetime) -> None:
        """Record a use of the key."""
        await self._col.update_one({"_id": key_id}, {"$set": {"last_used_at": at}})

    async def hashes(self, *, key_id: str | None = None, user_id: str | None = None,
                     revoked_at: datetime | None = None) -> list[str]:
        """Secret hashes of the keys matching these fields (for cache invalidation)."""
        query = {k: v for k, v in (("_id", key_id), ("user_id", user_id), ("revoked_at", revoked_at)) if v}
        rows = await self._col.find(query, {"secret_hash": 1}).to_list(10_000)
        return [row["secret_hash"] for row in rows]


def _dump(key: ApiKey) -> str:
    return json.dumps({**asdict(key), **{f: isoformat(getattr(key, f)) for f in _DATES}})


def _load(raw: bytes) -> ApiKey:
    data = json.loads(raw)
    for field in _DATES:
        value = data.get(field)
        data[field] = datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    for field in _LISTS:
        data[field] = _tuple(data.get(field))
    data["scopes"] = data["scopes"] or SCOPES
    return ApiKey(**data)


_DATES = ("created_at", "last_used_at", "revoked_at", "expires_at")
_LISTS = ("scopes", "models", "allowed_ips")


class CachedApiKeyRepository:
    """BeanieApiKeyRepository with Redis-cached lookups by hash; revocation tombstones the entry
    before it returns, so every process refuses the key on its next request."""

    def __init__(self, inner: BeanieApiKeyRepository, cache: TombstoneCache) -> None:
        self._inner, self._cache = inner, cache

    async def create(self, *, user_id: str, name: str, prefix: str, secret_hash: str,
                     limits: dict[str, Any] | None = None) -> ApiKey:
        """Store a new key record."""
        return await self._inner.create(user_id=user_id, name=name, prefix=prefix, secret_hash=secret_hash,
                                        limits=limits)

    async def update(self, key_id: str, *, user_id: str, changes: dict[str, Any]) -> ApiKey | None:
        """Change a key's limits and tombstone its cache entry (every process reads the new limits)."""
        key = await self._inner.update(key_id, user_id=user_id, changes=changes)
        if key is not None:
            await self._cache.invalidate(*await self._inner.hashes(key_id=key_id))
        return key

    async def get_active_by_hash(self, secret_hash: str) -> ApiKey | None:
        """The unrevoked key with this hash, or None."""
        raw = await self._cache.get(secret_hash)
        if raw is not None:
            return _load(raw)
        key = await self._inner.get_active_by_hash(secret_hash)
        if key is not None:
            await self._cache.fill(secret_hash, _dump(key))
        return key

    async def list_for_user(self, user_id: str) -> list[ApiKey]:
        """A user's unrevoked keys, newest first (uncached)."""
        return await self._inner.list_for_user(user_id)

    async def revoke(self, key_id: str, *, user_id: str, at: datetime) -> bool:
        """Revoke a user's key and tombstone its cache entry."""
        done = await self._inner.revoke(key_id, user_id=user_id, at=at)
        if done:
            await self._cache.invalidate(*await self._inner.hashes(key_id=key_id))
        return done

    async def revoke_all(self, user_id: str, *, at: datetime) -> int:
        """Revoke every key of a user and tombstone their cache entries."""
        count = await self._inner.revoke_all(user_id, at=at)
        if count:
            await self._cache.invalidate(*await self._inner.hashes(user_id=user_id, revoked_at=at))
        return count

    async def touch(self, key_id: str, *, at: datetime) -> None:
        """Record a use of the key (the cached copy keeps its older last_used_at)."""
        await self._inner.touch(key_id, at=at)
