"""Users in MongoDB (`users` collection, unique Clerk ID)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pymongo
from pydantic import Field
from pymongo.errors import DuplicateKeyError

from repositories.documents import MuseDocument
from repositories.local_copies import LocalCopies, encode_keys
from services.identity.users import User, erased_subject
from services.platform.clock import utcnow
from services.platform.ids import new_id
from services.platform.principal import Role


class UserDocument(MuseDocument):
    id: str = Field(default_factory=lambda: new_id("usr"))  # type: ignore[assignment]  # our ids are strings
    clerk_id: str
    email: str | None = None
    name: str | None = None
    image_url: str | None = None
    role: str = "USER"
    plan: str = "free"
    disabled: bool = False
    deleted: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "users"
        indexes = [
            pymongo.IndexModel([("clerk_id", pymongo.ASCENDING)], unique=True, name="clerk_id_unique"),
            pymongo.IndexModel([("email", pymongo.ASCENDING)], name="email"),
        ]


def _to_user(raw: dict[str, Any]) -> User:
    data = dict(raw)
    data["id"] = data.pop("_id")
    data["role"] = Role[data.get("role") or "USER"]
    return User.model_validate(data)


def _to_mongo(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.name if isinstance(v, Role) else v) for k, v in fields.items()}


class BeanieUserRepository:
    """Users collection; creation is an atomic upsert on the unique Clerk ID."""

    @property
    def _col(self):
        return UserDocument.get_pymongo_collection()

    async def get(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        raw = await self._col.find_one({"_id": user_id})
        return _to_user(raw) if raw else None

    async def get_by_clerk_id(self, clerk_id: str) -> User | None:
        """The user with this Clerk ID (or the deleted user it was: its digest), or None."""
        raw = await self._col.find_one({"clerk_id": clerk_id})
        if raw is None:
            raw = await self._col.find_one({"clerk_id": erased_subject(clerk_id)})
        return _to_user(raw) if raw else None

    async def upsert_by_clerk_id(
        self, clerk_id: str, *, on_insert: dict[str, Any], on_update: dict[str, Any]
    ) -> tuple[User, bool]:
        """Create or update the user of `clerk_id`; True when this call inserted it.

        A deleted user is never updated (the filter excludes it; the upsert's insert then
        collides on the unique Clerk ID, or finds its digest: before and after inserting, so a
        deletion racing this call wins either way), so its anonymisation is terminal."""
        now = utcnow()
        on_update = _to_mongo(on_update)
        insert_only = {k: v for k, v in _to_mongo(on_insert).items() if k not in on_update}
        update = {
            "$setOnInsert": {"_id": new_id("usr"), "created_at": now, **insert_only},
            "$set": {"updated_at": now, **on_update},
        }
        # update_one (not findAndModify): the embedded nx-27017 applies $setOnInsert only there.
        erased = erased_subject(clerk_id)
        for _ in range(5):
            tombstone = await self._col.find_one({"clerk_id": erased})
            if tombstone is not None:
                return _to_user(tombstone), False
            try:
                # `$in [False, None]` (missing or false), not `$ne: True`: nx-27017 ignores $ne in updates
                result = await self._col.update_one({"clerk_id": clerk_id, "deleted": {"$in": [False, None]}},
                                                    update, upsert=True)
            except DuplicateKeyError:
                existing = await self._col.find_one({"clerk_id": clerk_id})
                if existing is not None and existing.get("deleted"):
                    return _to_user(existing), False  # deleted at Clerk: nothing is written back
                continue  # a concurrent upsert inserted it first: ours becomes an update
            if result.upserted_id is not None and erased != clerk_id:
                tombstone = await self._col.find_one({"clerk_id": erased})
                if tombstone is not None:  # deleted (and its subject erased) while we inserted
                    await self._col.delete_one({"_id": result.upserted_id})
                    return _to_user(tombstone), False
            raw = await self._col.find_one({"clerk_id": clerk_id})
            return _to_user(raw), result.upserted_id is not None
        raise RuntimeError(f"could not upsert user {clerk_id}")

    async def update(self, user_id: str, fields: dict[str, Any]) -> User | None:
        """Set `fields` on a user; the updated user, or None when missing."""
        result = await self._col.update_one(
            {"_id": user_id}, {"$set": {**_to_mongo(fields), "updated_at": utcnow()}}
        )
        if result.matched_count == 0:
            return None
        return await self.get(user_id)

    async def search(self, q: str | None, *, limit: int, cursor: str | None) -> list[User]:
        """Users whose id, Clerk ID, email or name contain `q`, newest first."""
        query: dict[str, Any] = {}
        if q:
            pattern = {"$regex": re.escape(q), "$options": "i"}
            query["$or"] = [{"_id": q}, {"clerk_id": pattern}, {"email": pattern}, {"name": pattern}]
        if cursor:
            query = {"$and": [query, {"_id": {"$lt": cursor}}]} if query else {"_id": {"$lt": cursor}}
        rows = await self._col.find(query).sort("_id", pymongo.DESCENDING).limit(limit).to_list(limit)
        return [_to_user(raw) for raw in rows]

    async def count(self) -> int:
        """How many users exist."""
        return await self._col.count_documents({})


class TombstoneCache:
    """A Redis read-through cache that writers invalidate with short tombstones.

    Readers fill a missing entry with SET NX; writers overwrite the entry with a
    tombstone after changing MongoDB. A reader that loaded the old value before the
    write can therefore never re-install it, so the next request after a write
    always sees it, in every process. Redis errors fall back to the database.

    With `local` (repositories/local_copies.py), what a look-up finds is also kept in this
    process's memory while it listens to the invalidation channel, and each invalidation is
    published there in the same pipeline as its tombstones: every process drops the entry.
    """

    TOMBSTONE = b"-"
    MAX_PENDING = 10_000

    def __init__(self, redis: Any, *, prefix: str, ttl_s: int = 60, tombstone_s: int = 5,
                 local: LocalCopies | None = None) -> None:
        self._redis, self._prefix, self._ttl, self._tomb_ttl = redis, prefix, ttl_s, tombstone_s
        self._local = local
        # keys missed here, with the generation of `local` when the look-up began (the oldest one)
        self._pending: dict[str, int] = {}

    async def get(self, key: str) -> bytes | None:
        """The cached value, or None on a miss, a tombstone or a Redis error."""
        full = self._prefix + key
        local = self._local
        since = 0
        if local is not None:
            copy = local.get(full)
            if copy is not None:
                return copy
            since = local.generation
        try:
            value = await self._redis.get(full)
        except Exception:
            return None
        if value in (None, self.TOMBSTONE):
            if local is not None:
                if len(self._pending) >= self.MAX_PENDING:
                    self._pending.clear()
                self._pending[full] = min(self._pending.get(full, since), since)
            return None
        if local is not None:
            local.install(full, value, since)
        return value

    async def fill(self, key: str, value: str) -> None:
        """Cache `value` unless the key holds anything (a value or a tombstone)."""
        full = self._prefix + key
        if self._local is not None:
            since = self._pending.pop(full, None)
            if since is not None:
                self._local.install(full, value.encode(), since)
        try:
            await self._redis.set(full, value, ex=self._ttl, nx=True)
        except Exception:
            pass

    async def invalidate(self, *keys: str) -> None:
        """Replace entries with tombstones (after the database write) and tell every process."""
        fulls = [self._prefix + key for key in keys]
        if self._local is not None:
            self._local.drop(fulls)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for full in fulls:
                    pipe.set(full, self.TOMBSTONE, ex=self._tomb_ttl)
                if self._local is not None:
                    pipe.publish(self._local.channel, encode_keys(fulls))
                await pipe.execute()
        except Exception:
            pass
        if self._local is not None:  # a look-up that raced the pipeline installs nothing either
            self._local.drop(fulls, counted=False)


PARSED_ENTRIES = 1024  # parsed cache entries kept per process (a few hundred KB)


class CachedUserRepository:
    """BeanieUserRepository with Redis-cached lookups by id and Clerk ID (writes invalidate).

    A cached entry is parsed once: the same bytes give the same (immutable) user, so every request
    that finds an entry shares its parse; a changed user is another entry, parsed anew. Nothing is
    answered from here that the cache did not just return (no time-based keeping)."""

    def __init__(self, inner: BeanieUserRepository, cache: TombstoneCache) -> None:
        self._inner, self._cache = inner, cache
        self._parsed: dict[bytes | str, User] = {}

    def _parse(self, raw: bytes | str) -> User:
        user = self._parsed.get(raw)
        if user is None:
            user = self._parsed[raw] = User.model_validate_json(raw)
            if len(self._parsed) > PARSED_ENTRIES:  # oldest parse out first
                del self._parsed[next(iter(self._parsed))]
        return user

    async def _cached(self, key: str, load) -> User | None:
        raw = await self._cache.get(key)
        if raw is not None:
            return self._parse(raw)
        user = await load()
        if user is not None:
            await self._cache.fill(key, user.model_dump_json())
        return user

    async def get(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        return await self._cached(f"id:{user_id}", lambda: self._inner.get(user_id))

    async def get_by_clerk_id(self, clerk_id: str) -> User | None:
        """The user with this Clerk ID, or None."""
        return await self._cached(f"clerk:{clerk_id}", lambda: self._inner.get_by_clerk_id(clerk_id))

    async def upsert_by_clerk_id(
        self, clerk_id: str, *, on_insert: dict[str, Any], on_update: dict[str, Any]
    ) -> tuple[User, bool]:
        """Create or update the user of `clerk_id`; True when this call inserted it."""
        user, created = await self._inner.upsert_by_clerk_id(
            clerk_id, on_insert=on_insert, on_update=on_update)
        await self._cache.invalidate(f"id:{user.id}", f"clerk:{clerk_id}")
        return user, created

    async def update(self, user_id: str, fields: dict[str, Any]) -> User | None:
        """Set `fields` on a user; the updated user, or None when missing."""
        before = await self._inner.get(user_id) if "clerk_id" in fields else None
        user = await self._inner.update(user_id, fields)
        if user is not None:
            stale = [f"clerk:{before.clerk_id}"] if before is not None else []
            await self._cache.invalidate(f"id:{user.id}", f"clerk:{user.clerk_id}", *stale)
        return user

    async def search(self, q: str | None, *, limit: int, cursor: str | None) -> list[User]:
        """Users matching `q` (uncached)."""
        return await self._inner.search(q, limit=limit, cursor=cursor)

    async def count(self) -> int:
        """How many users exist."""
        return await self._inner.count()
