"""Credit domain types and the pure rules of charging (no I/O).

An account holds three pots: the daily allowance of the plan (a UTC-day
window: `allowance_day` and `allowance_used`), an optional gift quota
(`tier`, `remaining`, `expires_at`) and the purchased/granted `balance`.
Every change to an account is an `Op`; the same `Op` becomes a ledger entry.
A `Change` describes the guarded single-document update that applies an op.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.platform.clock import isoformat, utcnow
from services.platform.errors import InsufficientCredits, ValidationFailed
from services.platform.ids import new_id

POTS = ("allowance", "gift", "balance")
KINDS = ("charge", "refund", "purchase", "grant", "gift_code", "admin_adjustment", "reversal")


def utc_day(now: datetime) -> str:
    """The UTC day of `now` as `YYYY-MM-DD` (the allowance window)."""
    return now.strftime("%Y-%m-%d")


def next_reset(now: datetime) -> datetime:
    """The start of the next UTC day."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def key_slot(key: str) -> str:
    """A field-name-safe slot for an op key in the account's pending map."""
    return hashlib.sha1(key.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Receipt:
    """What one charge took, and from where (`sources` are positive amounts)."""

    id: str
    user_id: str
    amount: int
    sources: dict[str, int]


@dataclass(slots=True)
class Gift:
    tier: str
    remaining: int
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return self.expires_at > now


@dataclass(slots=True)
class Op:
    """One change of an account; becomes one ledger entry (`key` is unique in the ledger)."""

    id: str
    key: str
    user_id: str
    kind: str
    at: datetime
    delta: int
    sources: dict[str, int]
    ref: str | None = None
    request_id: str | None = None
    reason: str | None = None
    admin_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    balance_after: int | None = None
    repaired: bool = False


@dataclass(slots=True)
class Account:
    user_id: str
    balance: int = 0
    gift: Gift | None = None
    allowance_day: str | None = None
    allowance_used: int = 0
    pending: dict[str, Op] = field(default_factory=dict)
    credit_seq: int = 0  # bumped by every op that is not a charge

    def used_today(self, now: datetime) -> int:
        return self.allowance_used if self.allowance_day == utc_day(now) else 0

    def gift_left(self, now: datetime) -> int:
        return max(self.gift.remaining, 0) if self.gift and self.gift.active(now) else 0

    def spendable(self, limit: int, now: datetime) -> int:
        return max(limit - self.used_today(now), 0) + self.gift_left(now) + max(self.balance, 0)


@dataclass(slots=True)
class Change:
    """A guarded update of one account document.

    Guards make the update fail (and the caller re-read and retry) instead of
    overdrawing: `used_cap` (allowance used ≤ cap), `gift_guard` (gift unexpired
    and, when drawing, remaining ≥ amount), `balance_guard` (balance ≥ amount drawn),
    `expect_day` (allowance day unchanged, for a rollover), `expect_gift_expiry`
    (compare-and-set of the gift on redemption), `expect_credit_seq` (a charge: no
    refund, grant, purchase or gift landed since the read, so pots it skipped as
    empty are still empty and the allowance → gift → balance order holds).
    Every op but a charge bumps `credit_seq`.
    """

    now: datetime
    expect_credit_seq: int | None = None
    allowance: int = 0
    day: str | None = None
    rollover: bool = False
    expect_day: str | None = None
    used_cap: int | None = None
    gift: int = 0
    gift_guard: bool = False
    gift_set: Gift | None = None
    expect_gift_expiry: datetime | None = None
    balance: int = 0
    balance_guard: bool = False


def split_charge(account: Account, amount: int, *, limit: int, now: datetime) -> dict[str, int]:
    """How much of `amount` comes from each pot (allowance → gift → balance); 402 if short."""
    allowance = min(amount, max(limit - account.used_today(now), 0))
    gift = min(amount - allowance, account.gift_left(now))
    balance = amount - allowance - gift
    if balance > max(account.balance, 0):
        available = account.spendable(limit, now)
        unit = "credit is" if available == 1 else "credits are"
        raise InsufficientCredits(f"This request costs {amount} credits; {available} {unit} available.",
                                  required=amount, available=available)
    return {"allowance": allowance, "gift": gift, "balance": balance}


def charge_change(account: Account, taken: dict[str, int], *, limit: int, now: datetime) -> Change:
    """The guarded update that takes `taken` from the account as read."""
    today = utc_day(now)
    change = Change(now=now, day=today, expect_credit_seq=account.credit_seq)
    if taken["allowance"]:
        change.allowance = taken["allowance"]
        if account.allowance_day == today:
            change.used_cap = limit - taken["allowance"]
        else:
            change.rollover, change.expect_day = True, account.allowance_day
    if taken["gift"]:
        change.gift, change.gift_guard = -taken["gift"], True
    if taken["balance"]:
        change.balance, change.balance_guard = -taken["balance"], True
    return change


def after_charge(account: Account, change: Change) -> Account:
    """The account as a charge's `change` (charge_change) leaves it, pots only (`pending` empty)."""
    day, used = account.allowance_day, account.allowance_used
    if change.allowance:
        day, used = (change.day, change.allowance) if change.rollover else (day, used + change.allowance)
    gift = account.gift
    if gift is not None and change.gift:
        gift = Gift(tier=gift.tier, remaining=gift.remaining + change.gift, expires_at=gift.expires_at)
    return Account(user_id=account.user_id, balance=account.balance + change.balance, gift=gift,
                   allowance_day=day, allowance_used=used, credit_seq=account.credit_seq)


def merged_charges(changes: list[Change]) -> Change | None:
    """One guarded update doing what `changes` do one after the other, or None if they do not merge.

    Each change is a charge's, made from the account as the ones before it leave it (`after_charge`):
    all were made against the same `credit_seq` and UTC day, and only the first may start the day
    (a rollover). The merged guards hold exactly when each change's would have held in turn: pots
    are only drawn from, so the sums bound them (`used_cap` per change, less the allowance taken
    before it)."""
    first = changes[0]
    if any(c.day != first.day or c.expect_credit_seq != first.expect_credit_seq or c.gift_set is not None
           or (c.rollover and c is not first) or c.allowance < 0 or c.gift > 0 or c.balance > 0
           for c in changes):
        return None
    merged = Change(now=max(c.now for c in changes), expect_credit_seq=first.expect_credit_seq, day=first.day,
                    rollover=first.rollover, expect_day=first.expect_day)
    taken = 0
    for c in changes:
        if c.used_cap is not None and not first.rollover:  # after a rollover the caps were met when made
            cap = c.used_cap - taken
            merged.used_cap = cap if merged.used_cap is None else min(merged.used_cap, cap)
        taken += c.allowance
        merged.gift += c.gift
        merged.gift_guard = merged.gift_guard or c.gift_guard
        merged.balance += c.balance
        merged.balance_guard = merged.balance_guard or c.balance_guard
    merged.allowance = taken
    return merged


def refund_change(account: Account, charge: Op, *, now: datetime) -> tuple[Change, dict[str, int]]:
    """The update restoring a charge to its pots; windows that closed since are forfeited."""
    taken = {pot: -charge.sources.get(pot, 0) for pot in POTS}
    restored = {"allowance": 0, "gift": 0, "balance": taken["balance"]}
    day = charge.meta.get("allowance_day")
    change = Change(now=now, day=day, balance=taken["balance"])
    if taken["allowance"] and day == utc_day(now) and account.allowance_day == day:
        restored["allowance"] = taken["allowance"]
        change.allowance, change.expect_day = -taken["allowance"], day
    if taken["gift"] and account.gift and account.gift.active(now):
        restored["gift"] = taken["gift"]
        change.gift, change.gift_guard = taken["gift"], True
    return change, restored


def gift_change(account: Account, *, tier: str, credits: int, days: int, now: datetime) -> Change:
    """Redeeming a gift tier: a new quota, or an extension of the active one.

    On top of an active gift the remaining credits add up and the expiry moves
    out by the tier's days (counted from the current expiry); the newer tier's name is kept.
    """
    current = account.gift if account.gift and account.gift.active(now) else None
    if current:
        new = Gift(tier=tier, remaining=current.remaining + credits,
                   expires_at=current.expires_at + timedelta(days=days))
    else:
        new = Gift(tier=tier, remaining=credits, expires_at=now + timedelta(days=days))
    return Change(now=now, gift_set=new,
                  expect_gift_expiry=account.gift.expires_at if account.gift else None)


def credits_summary(account: Account, *, plan: str, limit: int, now: datetime) -> dict[str, Any]:
    """The contract §3 credits object of `account` under a plan of `limit` daily credits."""
    used = min(account.used_today(now), limit)
    gift = account.gift if account.gift_left(now) > 0 else None
    return {
        "allowance": {"plan": plan, "limit": limit, "used": used, "remaining": limit - used,
                      "resets_at": isoformat(next_reset(now))},
        "gift": {"tier": gift.tier, "remaining": gift.remaining, "expires_at": isoformat(gift.expires_at)}
        if gift else None,
        "balance": account.balance,
        "spendable": account.spendable(limit, now),
    }


def new_op(user_id: str, kind: str, *, key: str | None = None, sources: dict[str, int], **fields: Any) -> Op:
    """A new op (its id is its key unless a once-per-ref key is given); delta = sum of the sources."""
    op_id = new_id("led")
    full = {"allowance": 0, "gift": 0, "balance": 0, **sources}
    return Op(id=op_id, key=key or op_id, user_id=user_id, kind=kind, at=utcnow(),
              delta=sum(full.values()), sources=full, **fields)


def refunded_usage(charge: Op) -> dict[str, Any]:
    """What a refund's ledger entry says about the charge it gives back, so the entry alone
    places it in the usage rollup: the charge's item, model, API key, time and amount."""
    usage = {k: charge.meta[k] for k in ("item", "model", "api_key_id", "plan")
             if charge.meta.get(k) is not None}
    return {"charge": {**usage, "at": isoformat(charge.at), "amount": -charge.delta}}


def require_positive(amount: int) -> None:
    """Amounts moved are positive integers (signs come from the op kind)."""
    if not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"credit amounts are positive integers, not {amount!r}")

# --- usage (contract §19): the daily rollup's rows and the periods reports cover ------------------

MAX_DAYS = 366
DEFAULT_DAYS = 30
MICRO = Decimal(1_000_000)
COST = "cost_micro_usd"  # the rollup counter of provider cost (whole micro-dollars)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One row of the rollup: a user's usage of one kind, model and API key on one UTC day."""

    user_id: str
    day: str
    kind: str
    model: str = ""  # "" when the entry names none
    api_key: str = ""  # "" for sessions (not an API key)
    plan: str = ""  # the plan charged under (admin analytics by plan)

    @property
    def id(self) -> str:
        """The rollup document it belongs to: one per user and day."""
        return f"{self.user_id}|{self.day}"


def escape(value: str) -> str:
    """A value safe inside a field name (no `.`, `$` or `|`)."""
    return value.replace("%", "%25").replace(".", "%2E").replace("$", "%24").replace("|", "%7C")


def unescape(value: str) -> str:
    """A value as it was before `_escape` (field names back to catalogue names, keys, plans)."""
    return value.replace("%7C", "|").replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{name} must be a date YYYY-MM-DD.",
                               errors=[{"loc": ["query", name], "msg": "a date YYYY-MM-DD"}]) from None


def period(first: str | None, last: str | None) -> tuple[str, str]:
    """The UTC days asked for (default: the last 30 days to today); 422 when reversed or > 366 days."""
    today = utcnow().date()
    end = _day(last, "to") or today
    start = _day(first, "from") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValidationFailed("from is after to.", errors=[{"loc": ["query", "from"], "msg": "after to"}])
    if (end - start).days + 1 > MAX_DAYS:
        msg = f"at most {MAX_DAYS} days from `from`"
        raise ValidationFailed(f"At most {MAX_DAYS} days at a time.",
                               errors=[{"loc": ["query", "to"], "msg": msg}])
    return start.isoformat(), end.isoformat()
