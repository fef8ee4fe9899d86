"""Credit accounts in MongoDB: one document per user, changed only by guarded single-document updates.

An op is applied with ONE `find_one_and_update` whose filter carries the
guards (`$gte`/`$lte`/day/expiry) and whose update both moves the pots (`$inc`)
and records the op in `pending.<slot>` (with `pending_count` +1). The ledger
entry is written afterwards and the pending slot cleared; a crash in between
leaves the op in `pending`, which `reconcile` turns into the missing entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

import bson
import pymongo
from pydantic import Field
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from repositories.documents import MuseDocument
from repositories.local_copies import LocalCopies
from services.credits.model import Account, Change, Gift, Op, key_slot


class CreditAccountDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # the user id
    balance: int = 0
    gift: dict[str, Any] | None = None
    allowance: dict[str, Any] = Field(default_factory=lambda: {"day": None, "used": 0})
    pending: dict[str, Any] = Field(default_factory=dict)
    pending_count: int = 0
    credit_seq: int = 0

    class Settings:
        name = "credit_accounts"
        indexes = [[("pending_count", pymongo.ASCENDING)]]


_OP_FIELDS = tuple(f.name for f in fields(Op))


def op_to_doc(op: Op) -> dict[str, Any]:
    """An op as stored (pending slot or ledger entry).

    Ops hold plain values, so a shallow copy (its dicts copied) stores what `asdict` stored, without
    its recursive deep copy (~100 µs of each charge's CPU, issue 12)."""
    doc = {name: getattr(op, name) for name in _OP_FIELDS}
    doc["sources"], doc["meta"] = dict(op.sources), dict(op.meta)
    doc["_id"] = doc.pop("id")
    return doc


_PARKED_DEFAULTS = {"ref": None, "request_id": None, "reason": None, "admin_id": None,
                    "balance_after": None, "repaired": False}


def parked_doc(op: Op) -> dict[str, Any]:
    """An op as parked in its account's pending map: without what the account already says.

    The whole account document is rewritten by every update, and a busy account parks an op per
    charge in flight, so a slot's size is paid on each of them (on nx-27017 the CPU of an update
    grew ~50 µs per parked op, issue 12). The user id is the account's, a charge's key is its id
    and unset optional fields are left out; `parked_op` restores them."""
    doc = op_to_doc(op)
    del doc["user_id"]
    if doc["key"] == doc["_id"]:
        del doc["key"]
    for name, default in _PARKED_DEFAULTS.items():
        if doc[name] is default:  # None / False
            del doc[name]
    return doc


def parked_op(user_id: str, doc: dict[str, Any]) -> Op:
    """The op parked as `doc` in the account of `user_id` (full or `parked_doc` form)."""
    return op_from_doc({"user_id": user_id, "key": doc["_id"], **doc})


def op_from_doc(doc: dict[str, Any]) -> Op:
    """The op stored in `doc`."""
    data = dict(doc)
    data["id"] = data.pop("_id")
    data["at"] = as_datetime(data["at"])
    return Op(**{k: v for k, v in data.items() if k in Op.__dataclass_fields__})


def _ms(moment: datetime) -> int:
    # nx-27017 keeps datetimes written by `$set` in a form its range queries do not compare
    # reliably, so every guarded time is also stored as epoch milliseconds.
    return int(moment.timestamp() * 1000)


def as_datetime(value: Any) -> datetime:
    """A stored time as an aware datetime (nx-27017 may hand `$set` times back as strings)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _account(doc: dict[str, Any]) -> Account:
    gift = doc.get("gift")
    allowance = doc.get("allowance") or {}
    return Account(
        user_id=doc["_id"],
        balance=int(doc.get("balance", 0)),
        gift=Gift(tier=gift["tier"], remaining=int(gift["remaining"]),
                  expires_at=as_datetime(gift["expires_at"])) if gift else None,
        allowance_day=allowance.get("day"),
        allowance_used=int(allowance.get("used", 0)),
        pending={op.key: op for op in (parked_op(doc["_id"], slot)
                                       for slot in (doc.get("pending") or {}).values())},
        credit_seq=int(doc.get("credit_seq") or 0),
    )


def _gift_doc(gift: Gift | dict[str, Any] | None) -> dict[str, Any] | None:
    if gift is None:
        return None
    doc = asdict(gift) if isinstance(gift, Gift) else dict(gift)
    doc["expires_ms"] = _ms(doc["expires_at"])
    return doc


def _guarded_update(ops: Sequence[Op], ch: Change) -> tuple[dict[str, Any], dict[str, Any]]:
    flt: dict[str, Any] = {"_id": ops[0].user_id}
    put: dict[str, Any] = {}
    for op in ops:
        slot = f"pending.{key_slot(op.key)}"
        flt[slot], put[slot] = {"$exists": False}, parked_doc(op)
    inc: dict[str, Any] = {"pending_count": len(ops)}
    if ch.expect_credit_seq is not None:
        flt["credit_seq"] = ch.expect_credit_seq
    else:
        inc["credit_seq"] = 1
    if ch.allowance:
        if ch.rollover:
            flt["allowance.day"] = ch.expect_day
            put["allowance.day"], put["allowance.used"] = ch.day, ch.allowance
        else:
            flt["allowance.day"] = ch.day
            if ch.used_cap is not None:
                flt["allowance.used"] = {"$lte": ch.used_cap}
            if ch.allowance < 0:
                flt["allowance.used"] = {"$gte": -ch.allowance}
            inc["allowance.used"] = ch.allowance
    if ch.gift:
        if ch.gift_guard:
            flt["gift.expires_ms"] = {"$gt": _ms(ch.now)}
            if ch.gift < 0:
                flt["gift.remaining"] = {"$gte": -ch.gift}
        inc["gift.remaining"] = ch.gift
    if ch.gift_set is not None:
        flt["gift.expires_ms"] = _ms(ch.expect_gift_expiry) if ch.expect_gift_expiry else None
        put["gift"] = _gift_doc(ch.gift_set)
    if ch.balance:
        if ch.balance_guard and ch.balance < 0:
            flt["balance"] = {"$gte": -ch.balance}
        inc["balance"] = ch.balance
    return flt, {"$inc": inc, "$set": put}


def _clear_update(user_id: str, paths: list[str]) -> UpdateOne:
    """Unset these pending slots of the account if all are there, counting them off."""
    return UpdateOne({"_id": user_id, **{path: {"$exists": True} for path in paths}},
                     {"$unset": dict.fromkeys(paths, ""), "$inc": {"pending_count": -len(paths)}})


class BeanieCreditAccountRepository:
    """Credit accounts; every write is one atomic, guarded document update."""

    @property
    def _col(self):
        return CreditAccountDocument.get_pymongo_collection()

    async def get(self, user_id: str, *, pending: bool = True) -> Account | None:
        """The account of `user_id`, or None if it was never touched (`pending=False`: its pots only,
        the parked ops neither sent nor parsed)."""
        doc = await self._col.find_one({"_id": user_id}, None if pending else {"pending": 0})
        return _account(doc) if doc else None

    async def ensure(self, user_id: str) -> Account:
        """The account of `user_id`, created empty if missing (race-safe upsert)."""
        doc = await self._col.find_one({"_id": user_id})
        if doc is None:
            try:
                await self._col.update_one({"_id": user_id}, {"$setOnInsert": {
                    "balance": 0, "gift": None, "allowance": {"day": None, "used": 0},
                    "pending": {}, "pending_count": 0, "credit_seq": 0}}, upsert=True)
            except DuplicateKeyError:
                pass  # created concurrently
            doc = await self._col.find_one({"_id": user_id})
        return _account(doc)

    async def apply(self, op: Op, change: Change) -> Account | None:
        """Apply `change` and park `op` in the pending map atomically; None when a guard fails."""
        return await self.apply_many([op], change)

    async def apply_many(self, ops: Sequence[Op], change: Change) -> Account | None:
        """Apply `change` and park all of `ops` (one account's) in its pending map atomically; None
        when a guard fails (then none is parked).

        The account returned has the pots after the change but an empty `pending` map: the map is
        not read back (on a busy account it holds every op in flight; parsing it on every charge
        cost more than the charge). Reads that need it (`get`, `ensure`) still have it."""
        flt, update = _guarded_update(ops, change)
        doc = await self._col.find_one_and_update(flt, update, projection={"pending": 0},
                                                  return_document=ReturnDocument.AFTER)
        return _account(doc) if doc else None

    async def clear_pending_many(self, slots: list[tuple[str, str]]) -> None:
        """Forget the pending ops of these (user_id, key) pairs once their ledger entries exist: one
        unordered bulk write, one update per account (a busy account is rewritten once per batch,
        not once per slot); a slot already gone is skipped."""
        by_user: dict[str, list[str]] = {}
        for user_id, key in slots:
            by_user.setdefault(user_id, []).append(f"pending.{key_slot(key)}")
        updates = [_clear_update(user_id, paths) for user_id, paths in by_user.items()]
        if not updates:
            return
        result = await self._col.bulk_write(updates, ordered=False)
        if result.matched_count < len(updates):
            # An account lacked one of its slots (cleared meanwhile, e.g. by reconcile): clear the
            # rest one slot at a time; each update only matches a slot still there.
            await self._col.bulk_write([_clear_update(user_id, [path])
                                        for user_id, paths in by_user.items() if len(paths) > 1
                                        for path in paths], ordered=False)

    async def undo(self, op: Op) -> None:
        """Revert an op found to be a duplicate, from its signed sources, and clear its pending slot."""
        slot = f"pending.{key_slot(op.key)}"
        inc: dict[str, Any] = {"pending_count": -1}
        put: dict[str, Any] = {}
        if op.sources.get("allowance"):
            inc["allowance.used"] = op.sources["allowance"]
        if op.meta.get("gift_set"):
            put["gift"] = _gift_doc(op.meta.get("previous_gift"))
        elif op.sources.get("gift"):
            inc["gift.remaining"] = -op.sources["gift"]
        if op.sources.get("balance"):
            inc["balance"] = -op.sources["balance"]
        await self._col.update_one({"_id": op.user_id, slot: {"$exists": True}},
                                   {"$inc": inc, "$unset": {slot: ""}, **({"$set": put} if put else {})})

    async def with_pending(self, *, limit: int = 500) -> list[Account]:
        """Accounts that hold at least one pending op."""
        docs = await self._col.find({"pending_count": {"$gt": 0}}).limit(limit).to_list()
        return [_account(d) for d in docs]



NO_ACCOUNT = b"-"  # the copy of an account never touched


class CopiedCreditAccountRepository(BeanieCreditAccountRepository):
    """The account repository whose reads of the pots alone (`get(pending=False)`: what `/api/v1/me`
    shows) are answered from this process's copy (repositories/local_copies.py), kept coherent by
    invalidations pushed to every process.

    Every write here (apply, undo) announces the account's key (`LocalCopies.announce`: dropped in this
    process, PUBLISHed once per event-loop turn for all the keys announced in it), whether the write
    returned or failed (a write that failed may have landed); a guarded update that matched nothing
    changed nothing.
    Reads with the parked ops (`get`, `ensure`), and every guarded write, still go to MongoDB: the
    copy only ever answers what an account looks like, never whether it can pay."""

    def __init__(self, copies: LocalCopies, *, prefix: str) -> None:
        self._copies, self._prefix = copies, prefix

    async def get(self, user_id: str, *, pending: bool = True) -> Account | None:
        if pending:
            return await super().get(user_id)
        key = self._prefix + user_id
        raw = self._copies.get(key)
        if raw is not None:
            return None if raw == NO_ACCOUNT else _account(bson.decode(raw))
        since = self._copies.generation
        doc = await self._col.find_one({"_id": user_id}, {"pending": 0})
        # an account never touched is kept as such: `ensure` creates it empty (what it shows already)
        # and the first op that changes it drops the copy
        self._copies.install(key, bson.encode(doc) if doc else NO_ACCOUNT, since)
        return _account(doc) if doc else None

    async def apply_many(self, ops: Sequence[Op], change: Change) -> Account | None:
        changed = True
        try:
            after = await super().apply_many(ops, change)
            changed = after is not None
            return after
        finally:
            if changed:
                self._changed(ops[0].user_id)

    async def undo(self, op: Op) -> None:
        try:
            await super().undo(op)
        finally:
            self._changed(op.user_id)

    def _changed(self, user_id: str) -> None:
        self._copies.announce([self._prefix + user_id])
