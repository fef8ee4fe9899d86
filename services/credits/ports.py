"""The credits port: what other services need from the credit ledger (charge, refund, purchase, ...),
and the one charge guard (`charged`) they charge through.

Implemented by `services.credits.service.CreditsService`; unit tests use hand-written fakes.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import structlog
from pydantic import BaseModel

from services.credits.model import COST, Account, Bucket, Change, Op, Receipt
from services.platform.clock import isoformat

_log = structlog.stdlib.get_logger("muse.usage")


@runtime_checkable
class Credits(Protocol):
    """Charges for generations, purchases and reversals for payments, adjustments for admins."""

    async def charge(self, user_id: str, amount: int, *, plan: str | None, kind: str,
                     ref: str | None, request_id: str | None, model: str | None = None,
                     units: dict[str, int] | None = None) -> Receipt:
        """Take `amount` (allowance → gift → balance); InsufficientCredits when short."""
        ...

    def covers(self, user_id: str, amount: int, *, plan: str | None, times: int) -> bool:
        """Whether this process's last view of the account could pay `times` × `amount` (a hint for
        overlapping a charge with its work: the charge itself stays guarded)."""
        ...

    async def refund(self, receipt: Receipt, *, reason: str, request_id: str | None) -> bool:
        """Give a charge back to the pots it came from, once; False if already refunded."""
        ...

    async def refund_or_owe(self, receipt: Receipt, *, reason: str, request_id: str | None) -> None:
        """Refund, or owe the refund and retry it until it lands when the store does not answer
        (the refund of a request that failed: its own error stands)."""
        ...

    async def purchase(self, user_id: str, amount: int, *, ref: str, request_id: str | None) -> bool:
        """Add purchased credits, once per `ref`."""
        ...

    async def reverse(self, user_id: str, amount: int, *, ref: str, reason: str | None,
                      request_id: str | None) -> bool:
        """Take back purchased credits once per `ref`; the balance may go negative."""
        ...

    async def adjust(self, user_id: str, delta: int, *, admin_id: str | None, reason: str | None,
                     request_id: str | None) -> Op:
        """An admin's change of the balance."""
        ...

    async def summary(self, user_id: str, *, plan: str | None) -> dict[str, Any]:
        """The contract's credits object."""
        ...

    async def settle(self) -> None:
        """Wait until this process's charges are in the ledger (before reading it)."""
        ...


@runtime_checkable
class CreditAccountRepository(Protocol):
    async def get(self, user_id: str, *, pending: bool = True) -> Account | None: ...
    async def ensure(self, user_id: str) -> Account: ...
    async def apply(self, op: Op, change: Change) -> Account | None: ...
    async def apply_many(self, ops: Sequence[Op], change: Change) -> Account | None:
        """One guarded update applying `change` and parking all of `ops` (one account's), or none."""
        ...
    async def clear_pending_many(self, slots: list[tuple[str, str]]) -> None: ...
    async def undo(self, op: Op) -> None: ...
    async def with_pending(self, *, limit: int = 500) -> list[Account]: ...


@runtime_checkable
class LedgerRepository(Protocol):
    async def insert(self, op: Op) -> str: ...
    async def insert_many(self, ops: builtins.list[Op]) -> Sequence[str]: ...
    async def get(self, entry_id: str) -> Op | None: ...
    async def get_by_key(self, key: str) -> Op | None: ...
    async def list(self, user_id: str, *, limit: int, cursor: str | None = None) -> builtins.list[Op]: ...
    async def balance_sum(self, user_id: str, *, up_to_id: str | None = None) -> int: ...


@runtime_checkable
class KeySpend(Protocol):
    """What each API key spent per UTC day and month; reservations against its caps are atomic."""

    async def reserve(self, key_id: str, amount: int, *, at: datetime, daily_cap: int | None,
                      monthly_cap: int | None) -> Literal["day", "month"] | None:
        """Count `amount` unless that passes a cap: None, or the period whose cap refused it."""
        ...

    async def release(self, key_id: str, amount: int, *, at: datetime) -> None:
        """Give back `amount` counted on the day and month of `at`."""
        ...

    async def spent(self, key_ids: builtins.list[str], *, at: datetime) -> dict[str, tuple[int, int]]:
        """(spent on the day of `at`, spent in its month) of each key."""
        ...


class GiftCode(BaseModel):
    code: str
    gid: str
    tier: str | None = None
    credits: int | None = None
    expires_at: datetime | None = None
    created_at: datetime
    created_by: str | None = None
    redeemed_by: str | None = None
    redeemed_at: datetime | None = None
    credited: bool = False

    def status(self, now: datetime) -> str:
        """redeemed, expired or active."""
        if self.redeemed_by:
            return "redeemed"
        return "expired" if self.expires_at and self.expires_at <= now else "active"

    def public(self, now: datetime) -> dict[str, Any]:
        """The admin view of a code."""
        return {"code": self.code, "tier": self.tier, "credits": self.credits, "status": self.status(now),
                "expires_at": isoformat(self.expires_at), "created_at": isoformat(self.created_at),
                "created_by": self.created_by, "redeemed_by": self.redeemed_by,
                "redeemed_at": isoformat(self.redeemed_at)}


class GiftCodeRepository(Protocol):
    async def create_many(self, codes: list[GiftCode]) -> None: ...
    async def get(self, code: str) -> GiftCode | None: ...
    async def claim(self, code: GiftCode, *, user_id: str, now: datetime) -> GiftCode | None: ...
    async def mark_credited(self, code: str) -> None: ...
    async def uncredited(self, *, redeemed_before: datetime, limit: int = 500) -> list[GiftCode]: ...
    async def list(self, *, limit: int, cursor: str | None = None) -> list[GiftCode]: ...


@runtime_checkable
class UsageRollup(Protocol):
    """The daily usage rollup, kept exact per ledger entry (crash-safe and idempotent)."""

    async def roll(self, ops: builtins.list[Op], counted: Sequence[Counted] = ()) -> None:
        """Add the contributions of freshly written ledger entries and of `counted` usage that is not
        a ledger entry (provider tokens and cost), each counted once."""
        ...

    async def repair(self, *, older_than: datetime) -> int:
        """Roll up entries a crash left unrolled (written before `older_than`); how many."""
        ...

    async def rows(self, user_id: str, *, first: str, last: str) -> builtins.list[dict[str, Any]]:
        """The user's day documents for the UTC days first..last (inclusive): `day` and the counters."""
        ...


# The one charge → run → refund-on-failure guard used wherever a generation is charged.
#
#     async with charged(credits, Charge(user_id, price, plan=..., kind="chat", ref=msg_id),
#                        refund_reason="provider_failed", request_id=rid) as receipt:
#         answer = await run()
#
# The charge happens on entry (InsufficientCredits leaves nothing to refund);
# any exception inside the block, cancellation included, refunds it once (owed and
# retried while the store does not answer) and propagates. A block that hands the
# receipt on (a stream still being relayed, an image job recorded for the worker)
# leaves the later refund to its new owner.


@dataclass(frozen=True, slots=True)
class Charge:
    """What to charge: `amount` credits of `user_id` for one `kind` of generation (ledger ref `ref`)."""

    user_id: str
    amount: int
    plan: str | None
    kind: str
    ref: str | None
    model: str | None = None  # the catalogue name asked for (API-key model limits, usage by model)
    units: dict[str, int] | None = None  # usage counted with the charge: {"images": n} / {"video_seconds": s}


@asynccontextmanager
async def charged(credits: Credits, charge: Charge, *, refund_reason: str,
                  request_id: str | None) -> AsyncIterator[Receipt]:
    """Charge on entry; refund (once) and re-raise when the block fails."""
    receipt = await credits.charge(charge.user_id, charge.amount, plan=charge.plan, kind=charge.kind,
                                   ref=charge.ref, request_id=request_id, model=charge.model,
                                   units=charge.units)
    try:
        yield receipt
    except BaseException:
        await credits.refund_or_owe(receipt, reason=refund_reason, request_id=request_id)
        raise


OVERLAP_COVER = 5  # a charge runs alongside its work when the last-seen spendable covers 5× its amount
_log = structlog.stdlib.get_logger("muse.credits")
T = TypeVar("T")


async def charged_call(credits: Credits, charge: Charge, work: Callable[[], Awaitable[T]], *,
                       refund_reason: str, request_id: str | None, cover: int = OVERLAP_COVER,
                       discard: Callable[[T], Awaitable[None]] | None = None) -> tuple[T, Receipt]:
    """(what `work` returned, the charge's receipt): as `charged`, but `work` starts while the guarded
    charge runs when this process last saw the account able to pay `cover` times the amount
    (issue 28); strictly charge-then-work otherwise. Either way nothing is returned uncharged: a
    charge that fails (402, a cap, the store down) cancels `work` and raises; a `work` that fails is
    refunded (once) and re-raised. `discard` lets go of what a `work` that had already finished
    returned when its charge then failed (an opened provider stream is closed)."""
    if not credits.covers(charge.user_id, charge.amount, plan=charge.plan, times=cover):
        async with charged(credits, charge, refund_reason=refund_reason, request_id=request_id) as receipt:
            return await work(), receipt
    running = asyncio.ensure_future(work())
    try:
        receipt = await credits.charge(charge.user_id, charge.amount, plan=charge.plan, kind=charge.kind,
                                       ref=charge.ref, request_id=request_id, model=charge.model,
                                       units=charge.units)
    except BaseException as exc:
        running.cancel()  # before anything reaches the client
        await asyncio.gather(running, return_exceptions=True)
        if discard is not None and not running.cancelled() and running.exception() is None:
            await discard(running.result())
        _log.info("charge_overlapped_refused", user_id=charge.user_id, error=type(exc).__name__)
        raise
    try:
        return await running, receipt
    except BaseException:
        running.cancel()
        await credits.refund_or_owe(receipt, reason=refund_reason, request_id=request_id)
        raise


# Provider usage and cost (contract §19): what services record each provider call through
# (services/credits/metering.py `ProviderMeter` prices and counts it).


@dataclass(frozen=True, slots=True)
class ProviderUsage:
    """What one provider call used, as the provider reported it (or estimated for the local one)."""

    provider: str
    model: str  # the provider's model id (what the price table names)
    tokens_in: int = 0
    tokens_out: int = 0
    images: int = 0
    video_seconds: int = 0


@dataclass(frozen=True, slots=True)
class Attribution:
    """Whose request a provider call served: the user's rollup row it is counted in."""

    user_id: str
    kind: str  # chat | image | image_edit | image_describe | video | embedding
    model: str | None  # the catalogue name asked for
    plan: str | None
    ref: str  # unique per provider call counted (the message, job or request id)
    api_key: str | None = None  # None: the API key bound to this request, if any


@dataclass(frozen=True, slots=True)
class Counted:
    """Usage that is not a ledger entry (a provider call's tokens and cost): `inc` added to the
    bucket's day row, once per `ref`."""

    bucket: Bucket
    inc: dict[str, int]
    ref: str


class UsageCounter(Protocol):
    """Where provider usage is counted: with the next ledger batch (services/credits/ledger_writer.py)."""

    def count_later(self, counted: Counted) -> asyncio.Future[None]:
        """Queue `counted` for the next batch; the future is done once that batch has been written
        (a failed batch is logged, never raised)."""
        ...


class NoMeter:
    """Records nothing (tests and tools that build services without the rollup)."""

    async def record(self, who: Attribution, usage: ProviderUsage, *, wait: bool = False) -> Decimal:
        return Decimal(0)


class Meter(Protocol):
    """What services record provider usage through."""

    async def record(self, who: Attribution, usage: ProviderUsage, *, wait: bool = False) -> Decimal:
        """Count one provider call, with the next ledger batch (`wait`: until it is written); its
        cost in USD."""
        ...


NO_METER: Meter = NoMeter()


@runtime_checkable
class RollupStore(UsageRollup, Protocol):
    """The whole rollup (repositories/usage.py `MongoUsageRollup`): ledger entries, other usage,
    reports, and every user's days (admin analytics)."""

    async def days(self, *, first: str, last: str) -> builtins.list[dict[str, Any]]:
        """Every user's day documents for the UTC days first..last."""
        ...


UsageWatcher = Callable[[builtins.set[str], dict[str, int]], Awaitable[None]]  # (users moved, cost by day)


class WatchedRollup:
    """The usage rollup telling its watchers what moved: which users' usage (ledger entries rolled
    up) and how much provider cost per day (budget alerts, services/admin/alerts.py). A watcher's
    failure is logged, never raised: counting usage must not fail for an alert."""

    def __init__(self, inner: RollupStore) -> None:
        self._inner = inner
        self.watchers: builtins.list[UsageWatcher] = []  # registered by the composition root

    async def repair(self, *, older_than: datetime) -> int:
        return await self._inner.repair(older_than=older_than)

    async def rows(self, user_id: str, *, first: str, last: str) -> builtins.list[dict[str, Any]]:
        return await self._inner.rows(user_id, first=first, last=last)

    async def days(self, *, first: str, last: str) -> builtins.list[dict[str, Any]]:
        return await self._inner.days(first=first, last=last)

    async def roll(self, ops: builtins.list[Op], counted: Sequence[Counted] = ()) -> None:
        await self._inner.roll(ops, counted)
        users = {op.user_id for op in ops if op.kind in ("charge", "refund")}
        cost: dict[str, int] = {}
        for one in counted:
            if one.inc.get(COST):
                cost[one.bucket.day] = cost.get(one.bucket.day, 0) + one.inc[COST]
        if users or cost:
            await self._tell(users, cost)

    async def _tell(self, users: builtins.set[str], cost: dict[str, int]) -> None:
        for watcher in self.watchers:
            try:
                await watcher(users, cost)
            except Exception as exc:  # noqa: BLE001 - see the class docstring
                _log.warning("usage_watcher_failed", error=type(exc).__name__)
