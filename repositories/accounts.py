"""Accounts, sessions and single-use tokens of Muse's own sign-in in MongoDB.

`accounts` (unique email), `auth_sessions` (read through a Redis cache that revocation
tombstones, like API keys) and `auth_tokens` (SHA-256 of each token; consumed once by one
conditional update). Times that are queried are epoch milliseconds (see README, nx-27017).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pymongo
from pydantic import Field
from pymongo.errors import DuplicateKeyError

from repositories.documents import MuseDocument
from repositories.users import TombstoneCache
from services.identity.ports.accounts import Account, SessionRecord, TokenPurpose


class AccountDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # our own string ids, as in the other documents
    email: str
    password_hash: str
    subject: str
    created_at: datetime
    email_verified_at: datetime | None = None
    password_changed_at: datetime | None = None

    class Settings:
        name = "accounts"
        indexes = [
            pymongo.IndexModel([("email", pymongo.ASCENDING)], unique=True, name="email_unique"),
        ]


class SessionDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # our own string ids, as in the other documents
    account_id: str
    subject: str
    generation: int = 0
    expires_at_ms: int
    revoked: bool = False
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    class Settings:
        name = "auth_sessions"
        indexes = [pymongo.IndexModel([("account_id", pymongo.ASCENDING)], name="account_id")]


class OneTimeTokenDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # SHA-256 of the token
    purpose: str
    account_id: str
    expires_at_ms: int
    used_at_ms: int | None = None

    class Settings:
        name = "auth_tokens"
        indexes = [pymongo.IndexModel([("account_id", pymongo.ASCENDING)], name="account_id")]


def _when(value: Any) -> datetime | None:
    if isinstance(value, str):  # nx-27017 returns a $set datetime as a string
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _to_account(raw: dict[str, Any]) -> Account:
    return Account(
        id=raw["_id"], email=raw["email"], password_hash=raw["password_hash"], subject=raw["subject"],
        created_at=_when(raw["created_at"]) or datetime.now(UTC),
        email_verified_at=_when(raw.get("email_verified_at")),
        password_changed_at=_when(raw.get("password_changed_at")),
    )


def _to_session(raw: dict[str, Any]) -> SessionRecord:
    return SessionRecord(id=raw["_id"], account_id=raw["account_id"], subject=raw["subject"],
                         generation=int(raw.get("generation", 0)), expires_at_ms=int(raw["expires_at_ms"]),
                         revoked=bool(raw.get("revoked")))


class BeanieAccountRepository:
    """The `accounts` collection."""

    @property
    def _col(self):
        return AccountDocument.get_pymongo_collection()

    async def create(self, account: Account) -> bool:
        """Store a new account; False when the email is taken."""
        data = asdict(account)
        data["_id"] = data.pop("id")
        try:
            await self._col.insert_one(data)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, account_id: str) -> Account | None:
        """The account with this id, or None."""
        raw = await self._col.find_one({"_id": account_id})
        return _to_account(raw) if raw else None

    async def get_by_email(self, email: str) -> Account | None:
        """The account of a normalised email, or None."""
        raw = await self._col.find_one({"email": email})
        return _to_account(raw) if raw else None

    async def set_password(self, account_id: str, password_hash: str, *, at: datetime) -> None:
        """Replace the password hash."""
        await self._col.update_one(
            {"_id": account_id}, {"$set": {"password_hash": password_hash, "password_changed_at": at}})

    async def delete(self, account_id: str) -> bool:
        """Remove the account (its email is free again); False when there was none."""
        result = await self._col.delete_one({"_id": account_id})
        await OneTimeTokenDocument.get_pymongo_collection().delete_many({"account_id": account_id})
        return result.deleted_count == 1

    async def mark_verified(self, account_id: str, *, at: datetime) -> bool:
        """Record that the address was confirmed (the first time only); True when this call did."""
        result = await self._col.update_one({"_id": account_id, "email_verified_at": None},
                                            {"$set": {"email_verified_at": at}})
        return result.modified_count == 1


class BeanieSessionRepository:
    """The `auth_sessions` collection."""

    @property
    def _col(self):
        return SessionDocument.get_pymongo_collection()

    async def create(self, record: SessionRecord) -> None:
        """Store a new session."""
        data = asdict(record)
        data["_id"] = data.pop("id")
        await self._col.insert_one({**data, "created_at": datetime.now(UTC)})

    async def get(self, session_id: str) -> SessionRecord | None:
        """The session, or None."""
        raw = await self._col.find_one({"_id": session_id})
        return _to_session(raw) if raw else None

    async def rotate(self, session_id: str, *, generation: int, expires_at_ms: int, now_ms: int) -> bool:
        """Advance an active session from `generation` (once, even under races)."""
        result = await self._col.update_one(
            {"_id": session_id, "generation": generation, "revoked": False,
             "expires_at_ms": {"$gt": now_ms}},
            {"$inc": {"generation": 1}, "$set": {"expires_at_ms": expires_at_ms}})
        return result.modified_count == 1

    async def revoke(self, session_id: str) -> bool:
        """Revoke one session; False when unknown or already revoked."""
        result = await self._col.update_one({"_id": session_id, "revoked": False},
                                            {"$set": {"revoked": True}})
        return result.modified_count == 1

    async def revoke_all(self, account_id: str, *, except_id: str | None = None) -> int:
        """Revoke an account's sessions (but `except_id`); how many."""
        return len(await self.revoke_all_ids(account_id, except_id=except_id))

    async def revoke_all_ids(self, account_id: str, *, except_id: str | None = None) -> list[str]:
        """Revoke an account's sessions (but `except_id`); their ids."""
        rows = await self._col.find({"account_id": account_id, "revoked": False}, {"_id": 1}).to_list(10_000)
        ids = [row["_id"] for row in rows if row["_id"] != except_id]
        if ids:
            await self._col.update_many({"_id": {"$in": ids}}, {"$set": {"revoked": True}})
        return ids


class CachedSessionRepository:
    """Sessions with Redis-cached reads; revocation and rotation tombstone the entry before they
    return, so every process sees the change on its next request."""

    def __init__(self, inner: BeanieSessionRepository, cache: TombstoneCache) -> None:
        self._inner, self._cache = inner, cache

    async def create(self, record: SessionRecord) -> None:
        """Store a new session."""
        await self._inner.create(record)

    async def get(self, session_id: str) -> SessionRecord | None:
        """The session (cached while active)."""
        raw = await self._cache.get(session_id)
        if raw is not None:
            return SessionRecord(**json.loads(raw))
        record = await self._inner.get(session_id)
        if record is not None and not record.revoked:
            await self._cache.fill(session_id, json.dumps(asdict(record)))
        return record

    async def rotate(self, session_id: str, *, generation: int, expires_at_ms: int, now_ms: int) -> bool:
        """Advance the session and drop its cached copy."""
        done = await self._inner.rotate(session_id, generation=generation, expires_at_ms=expires_at_ms,
                                        now_ms=now_ms)
        if done:
            await self._cache.invalidate(session_id)
        return done

    async def revoke(self, session_id: str) -> bool:
        """Revoke the session and tombstone its cached copy."""
        done = await self._inner.revoke(session_id)
        await self._cache.invalidate(session_id)
        return done

    async def revoke_all(self, account_id: str, *, except_id: str | None = None) -> int:
        """Revoke an account's sessions and tombstone them."""
        ids = await self._inner.revoke_all_ids(account_id, except_id=except_id)
        if ids:
            await self._cache.invalidate(*ids)
        return len(ids)


class BeanieOneTimeTokenRepository:
    """The `auth_tokens` collection."""

    @property
    def _col(self):
        return OneTimeTokenDocument.get_pymongo_collection()

    async def create(self, *, token_hash: str, purpose: TokenPurpose, account_id: str,
                     expires_at_ms: int) -> None:
        """Store a token's hash."""
        await self._col.insert_one({"_id": token_hash, "purpose": purpose, "account_id": account_id,
                                    "expires_at_ms": expires_at_ms, "used_at_ms": None})

    async def consume(self, token_hash: str, *, purpose: TokenPurpose, now_ms: int) -> str | None:
        """Use a token once; its account id, or None when unknown, used, expired or of another purpose."""
        result = await self._col.update_one(
            {"_id": token_hash, "purpose": purpose, "used_at_ms": None, "expires_at_ms": {"$gt": now_ms}},
            {"$set": {"used_at_ms": now_ms}})
        if result.modified_count != 1:
            return None
        raw = await self._col.find_one({"_id": token_hash})
        return raw["account_id"] if raw else None

    async def discard_all(self, account_id: str, *, purpose: TokenPurpose) -> None:
        """Mark every unused token of this purpose used."""
        await self._col.update_many({"account_id": account_id, "purpose": purpose, "used_at_ms": None},
                                    {"$set": {"used_at_ms": 0}})
