"""Credits: charge (allowance → gift → balance), refund by receipt, credits once per ref, reconcile.

Every op is one guarded single-document update of the user's account that
also parks the op in the account's `pending` map; the ledger entry is written
next (unique by op id and by op key) and the slot cleared (for charges, in
batches off the request path). A crash in between
leaves a pending op that `reconcile` turns into its ledger entry. Ops that
must happen once per reference (refund, purchase, grant, reversal, gift code)
use the key `<kind>:<ref>`: the pending slot blocks a concurrent twin, the
ledger's unique key a late one (which is then undone).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import structlog

from services.credits.combine import Build, ChargeLanes
from services.credits.key_caps import release_key_spend, reserve_key_spend
from services.credits.ledger_writer import LedgerWriter, returned
from services.credits.model import (
    Account,
    Change,
    Op,
    Receipt,
    charge_change,
    credits_summary,
    gift_change,
    new_op,
    refund_change,
    refunded_usage,
    require_positive,
    split_charge,
    utc_day,
)
from services.credits.owed import Owed, OwedRefunds
from services.credits.ports import Counted, CreditAccountRepository, KeySpend, LedgerRepository, UsageRollup
from services.platform import key_limits
from services.platform.catalog import Catalog
from services.platform.clock import isoformat, utcnow
from services.platform.errors import Conflict, InsufficientCredits, ValidationFailed
from services.platform.ports.metrics import NO_METRICS, Metrics

__all__ = ["CreditsService", "Receipt"]

log = structlog.stdlib.get_logger("muse.credits")

MAX_ATTEMPTS = 200
SNAPSHOTS = 10_000  # accounts remembered per process for the first try of a charge
# Charges queued for the ledger beyond which a charge waits for its batch: at most about twice this
# many returned charges are unwritten (the batch being written and the queue behind it).
FINISH_BACKLOG = 32


class CreditsService:
    """The only way credits move."""

    def __init__(self, accounts: CreditAccountRepository, ledger: LedgerRepository, catalog: Catalog, *,
                 signup_credits: Callable[[], Awaitable[int]] | None = None,
                 reconcile_after_s: float = 60.0, metrics: Metrics = NO_METRICS,
                 key_spend: KeySpend | None = None, usage: UsageRollup | None = None,
                 in_doubt_s: float = 5.0) -> None:
        self._accounts, self._ledger, self._catalog = accounts, ledger, catalog
        self._key_spend = key_spend
        self._usage = usage  # the daily usage rollup, fed as ledger entries land
        self._metrics = metrics
        self._signup_credits = signup_credits
        self._reconcile_after = timedelta(seconds=reconcile_after_s)
        self._snapshots: OrderedDict[str, Account] = OrderedDict()
        self._writer = LedgerWriter(accounts, ledger, usage)  # services/credits/ledger_writer.py
        # refunds (and charges in doubt) the store could not take: services/credits/owed.py
        self._owed = OwedRefunds(self._pay_owed, in_doubt_s=in_doubt_s)
        # charges of an account that come while one of its charges is written: services/credits/combine.py
        self._lanes = ChargeLanes(accounts, landed=self._landed, in_doubt=self._in_doubt)
        self._refunding: set[asyncio.Task[None]] = set()

    async def charge(self, user_id: str, amount: int, *, plan: str | None, kind: str,
                     ref: str | None, request_id: str | None, model: str | None = None,
                     units: dict[str, int] | None = None) -> Receipt:
        """Take `amount` (allowance → gift → balance); InsufficientCredits (402) when short.

        Through an API key (key_limits.current()): 403 `api_key_model` for a model it may not use,
        429 `api_key_cap_reached` when `amount` would pass its daily or monthly cap (reserved
        atomically before the charge, given back if the charge fails or is refunded)."""
        require_positive(amount)
        limit = self._catalog.plan(plan).daily_credits
        taken: dict[str, int] = {}
        key = key_limits.current()
        if key is not None and model is not None:
            key_limits.require_model(model)
        reserved_at = await reserve_key_spend(self._key_spend, key, amount) if key is not None else None
        meta: dict[str, Any] = {"item": kind, "plan": plan}
        if model is not None:
            meta["model"] = model
        if units:
            meta["units"] = units
        if key is not None:
            meta["api_key_id"] = key.key_id
        if reserved_at is not None:
            meta["spend_at"] = isoformat(reserved_at)

        def build(account: Account) -> tuple[Op, Change]:
            now = utcnow()
            taken.update(split_charge(account, amount, limit=limit, now=now))
            op = new_op(user_id, "charge", sources={p: -v for p, v in taken.items()}, ref=ref,
                     request_id=request_id, meta={**meta, "allowance_day": utc_day(now)})
            return op, charge_change(account, taken, limit=limit, now=now)

        try:
            op = await self._run(user_id, build, once=False, snapshot=True)
        except BaseException:
            if reserved_at is not None and key is not None and self._key_spend is not None:
                await self._key_spend.release(key.key_id, amount, at=reserved_at)
            raise
        assert op is not None
        self._metrics.credits_charged(amount)
        sources = {p: v for p, v in taken.items() if v}
        return Receipt(id=op.id, user_id=user_id, amount=amount, sources=sources)

    def covers(self, user_id: str, amount: int, *, plan: str | None, times: int) -> bool:
        """Whether the account as this process last saw it (its last charge's result) could pay
        `times` × `amount`; False when unseen. A hint only: the charge stays guarded."""
        account = self._snapshots.get(user_id)
        if account is None:
            return False
        return account.spendable(self._catalog.plan(plan).daily_credits, utcnow()) >= amount * times

    async def refund(self, receipt: Receipt, *, reason: str, request_id: str | None) -> bool:
        """Give a charge back to the pots it came from, once; False if already refunded."""
        return await self._refund(receipt, reason=reason, request_id=request_id)

    async def refund_or_owe(self, receipt: Receipt, *, reason: str, request_id: str | None) -> None:
        """Refund now or, when the store does not answer, owe the refund and retry it until it lands
        (services/credits/owed.py). A cancelled caller leaves the refund running."""
        async def refund() -> None:
            try:
                await self._refund(receipt, reason=reason, request_id=request_id)
            except Exception as exc:  # noqa: BLE001 - kept and retried; the caller's own error stands
                log.warning("credit_refund_failed", receipt_id=receipt.id, error=type(exc).__name__)
                self._owed.owe(Owed(receipt, reason, request_id, void=False))

        task = asyncio.get_running_loop().create_task(refund())
        self._refunding.add(task)
        task.add_done_callback(self._refunding.discard)
        await asyncio.shield(task)

    @property
    def owed(self) -> int:
        """How many refunds this process owes (the store did not answer when they fell due)."""
        return len(self._owed)

    async def _find_charge(self, receipt: Receipt) -> Op | None:
        charge = await self._ledger.get(receipt.id)
        if charge is None:  # still parked; look again in the ledger in case it was written meanwhile
            account = await self._accounts.get(receipt.user_id)
            charge = account.pending.get(receipt.id) if account else None
            charge = charge or await self._ledger.get(receipt.id)
        return charge

    async def _pay_owed(self, owed: Owed, older_than: float) -> bool:
        """Pay an owed refund (services/credits/owed.py `Pay`). A void releases no API-key spend:
        the failed charge released its reservation."""
        if owed.void:
            charge = await self._find_charge(owed.receipt)
            if charge is None:  # it never landed, once it can no longer be in flight
                return time.monotonic() - owed.since >= older_than
            await self._refund(owed.receipt, reason=owed.reason, request_id=owed.request_id, charge=charge,
                               release_key=False)
            return True
        await self._refund(owed.receipt, reason=owed.reason, request_id=owed.request_id)
        return True

    async def _refund(self, receipt: Receipt, *, reason: str, request_id: str | None,
                      charge: Op | None = None, release_key: bool = True) -> bool:
        charge = charge or await self._find_charge(receipt)
        if charge is None or charge.kind != "charge" or charge.user_id != receipt.user_id:
            log.warning("refund_unknown_charge", receipt_id=receipt.id)
            return False

        def build(account: Account) -> tuple[Op, Change]:
            change, restored = refund_change(account, charge, now=utcnow())
            lost = {p: -charge.sources.get(p, 0) - restored[p] for p in restored}
            op = new_op(receipt.user_id, "refund", key=f"refund:{receipt.id}", sources=restored,
                        ref=receipt.id, request_id=request_id, reason=reason,
                        meta={"charge_id": receipt.id, "forfeited": {p: v for p, v in lost.items() if v},
                              **refunded_usage(charge)})
            return op, change

        op = await self._run(receipt.user_id, build, once=True)
        if op is not None:
            self._metrics.credits_refunded(sum(v for v in op.sources.values() if v > 0))
            if release_key:  # the key may spend it again
                await release_key_spend(self._key_spend, charge)
        return op is not None

    async def purchase(self, user_id: str, amount: int, *, ref: str, request_id: str | None) -> bool:
        """Add purchased credits to the balance, once per `ref` (e.g. a PayPal capture)."""
        return await self._credit(user_id, amount, kind="purchase", ref=ref, request_id=request_id)

    async def grant(self, user_id: str, amount: int, *, ref: str, reason: str | None,
                    request_id: str | None) -> bool:
        """Add granted credits to the balance, once per `ref`."""
        if not isinstance(amount, int) or amount <= 0:
            raise ValidationFailed(f"A grant is a positive number of credits, not {amount!r}.")
        return await self._credit(user_id, amount, kind="grant", ref=ref, reason=reason,
                                  request_id=request_id)

    async def reverse(self, user_id: str, amount: int, *, ref: str, reason: str | None,
                      request_id: str | None) -> bool:
        """Take back purchased credits once per `ref` (refunded payment); the balance may go negative."""
        return await self._credit(user_id, -amount, kind="reversal", ref=ref, reason=reason,
                                  request_id=request_id)

    async def adjust(self, user_id: str, delta: int, *, admin_id: str | None, reason: str | None,
                     request_id: str | None) -> Op:
        """An admin's change of the balance (never below zero); 409 if it would be."""
        def build(account: Account) -> tuple[Op, Change]:
            if account.balance + delta < 0:
                raise Conflict(f"The balance is {account.balance}; it cannot go below zero.")
            op = new_op(user_id, "admin_adjustment", sources={"balance": delta}, admin_id=admin_id,
                     reason=reason, request_id=request_id)
            return op, Change(now=utcnow(), balance=delta, balance_guard=True)

        op = await self._run(user_id, build, once=False)
        assert op is not None
        return op

    async def redeem_gift(self, user_id: str, *, code: str, tier: str | None, credits: int | None,
                          request_id: str | None) -> bool:
        """Apply a redeemed gift code once: a gift tier (extending an active one) or plain credits."""
        if tier is None:
            return await self._credit(user_id, int(credits or 0), kind="gift_code", ref=code,
                                      request_id=request_id)
        gift = self._catalog.gift_tier(tier)

        def build(account: Account) -> tuple[Op, Change]:
            change = gift_change(account, tier=gift.name, credits=gift.credits, days=gift.days, now=utcnow())
            previous = asdict(account.gift) if account.gift else None
            op = new_op(user_id, "gift_code", key=f"gift_code:{code}", sources={"gift": gift.credits},
                        ref=code, request_id=request_id,
                        meta={"tier": gift.name, "gift_set": True, "previous_gift": previous,
                              "expires_at": change.gift_set.expires_at})  # type: ignore[union-attr]
            return op, change

        return await self._run(user_id, build, once=True) is not None

    async def grant_signup(self, user: Any) -> bool:
        """The signup grant of a new user (UserService on_created hook); once per user."""
        amount = await self._signup_credits() if self._signup_credits else 0
        if amount <= 0:
            return False
        # the request that created the user (JIT sign-in or the Clerk webhook), as bound for its logs
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        return await self.grant(user.id, amount, ref=f"signup:{user.id}", reason="signup",
                                request_id=request_id if isinstance(request_id, str) else None)

    async def summary(self, user_id: str, *, plan: str | None) -> dict[str, Any]:
        """The contract §3 credits object."""
        account = await self._accounts.get(user_id, pending=False) or Account(user_id=user_id)
        p = self._catalog.plan(plan)
        return credits_summary(account, plan=p.name, limit=p.daily_credits, now=utcnow())

    async def ledger(self, user_id: str, *, limit: int = 20, cursor: str | None = None
                     ) -> tuple[list[Op], str | None]:
        """A page of the user's ledger, newest first, and the next cursor."""
        await self.settle()
        rows = await self._ledger.list(user_id, limit=limit + 1, cursor=cursor)
        return rows[:limit], rows[limit - 1].id if len(rows) > limit else None

    async def audit(self, user_id: str) -> dict[str, Any]:
        """Balance against the ledger's balance deltas (equal at rest)."""
        await self.settle()
        account = await self._accounts.get(user_id) or Account(user_id=user_id)
        total = await self._ledger.balance_sum(user_id)
        return {"user_id": user_id, "balance": account.balance, "ledger_balance": total,
                "pending": len(account.pending), "ok": total == account.balance}

    async def reconcile(self, *, older_than_s: float | None = None) -> dict[str, int]:
        """Write the ledger entries of ops left pending by a crash (older than the threshold)."""
        age = self._reconcile_after if older_than_s is None else timedelta(seconds=older_than_s)
        await self.settle()  # this process's own finished ops are not "left pending"
        await self._owed.pay_due(older_than=age.total_seconds())  # voids older than the threshold too
        cutoff, counts = utcnow() - age, {"repaired": 0, "cleared": 0, "undone": 0}
        for account in await self._accounts.with_pending():
            for op in account.pending.values():
                if op.at > cutoff:
                    continue
                op.balance_after = await self._ledger.balance_sum(op.user_id, up_to_id=op.id) + \
                    op.sources.get("balance", 0)
                op.repaired = True
                outcome = (await self._writer.finish([op]))[0]
                counts[{"inserted": "repaired", "exists": "cleared", "duplicate_key": "undone"}[outcome]] += 1
                log.warning("credit_op_reconciled", op_id=op.id, user_id=op.user_id, outcome=outcome)
        if self._usage is not None and (rolled := await self._usage.repair(older_than=cutoff)):
            log.warning("usage_rollup_repaired", entries=rolled)
        return counts

    async def _credit(self, user_id: str, amount: int, *, kind: str, ref: str, request_id: str | None,
                      reason: str | None = None) -> bool:
        require_positive(abs(amount))
        def build(account: Account) -> tuple[Op, Change]:
            op = new_op(user_id, kind, key=f"{kind}:{ref}", sources={"balance": amount}, ref=ref,
                     request_id=request_id, reason=reason)
            return op, Change(now=utcnow(), balance=amount)

        return await self._run(user_id, build, once=True) is not None

    async def _run(self, user_id: str, build: Build, *, once: bool, snapshot: bool = False) -> Op | None:
        """Apply the op `build` makes from a read, retrying on a fresh read when a guard lost a race.

        With `snapshot` (charges) the first try may use the account as this process last saw it:
        a stale view only makes the guarded update fail, and a 402 is only raised on a fresh read.
        """
        account = self._snapshots.get(user_id) if snapshot else None
        for attempt in range(MAX_ATTEMPTS):
            if snapshot and not attempt and self._lanes.busy(user_id):  # services/credits/combine.py
                joined = await self._lanes.join(user_id, build)
                if joined is not None:
                    return await returned(*joined)
                account = None  # not written: made again, alone, from a fresh read
            fresh = account is None
            if account is None:
                account = await self._accounts.ensure(user_id)
            try:
                made = build(account)
            except InsufficientCredits:
                if fresh:
                    raise
                account = None
                continue
            if made is None:
                return None
            op, change = made
            if once and (op.key in account.pending or await self._ledger.get_by_key(op.key)):
                return None  # done already, or in flight / awaiting reconcile
            try:
                writing = self._lanes.alone(op, change) if snapshot else self._accounts.apply(op, change)
                after = await writing
            except BaseException:  # no answer (the store, or the caller, went away): it may have landed
                if op.kind == "charge":
                    self._in_doubt(op)
                raise
            if after is not None:
                op.balance_after = after.balance
                if not once:  # keyed by its own id: no twin can take its ledger key
                    return await returned(op, self._landed(op, after))
                self._remember(after)
                outcome = await self._writer.finish_safely(op)
                return op if outcome != "duplicate_key" else None
            account = None
            self._snapshots.pop(user_id, None)
            if attempt > 2:
                await asyncio.sleep(random.random() * 0.002 * min(attempt, 10))
        raise Conflict("The credit account is too busy; retry the request.")

    def _in_doubt(self, op: Op) -> None:  # a charge's write had no answer
        self._owed.owe(Owed.void_of(op))

    def _landed(self, op: Op, after: Account) -> asyncio.Future[None] | None:
        """Queue a written op for its batch: the batch to wait for if too many are unwritten, else None."""
        self._remember(after)
        batch = self._writer.finish_later(op)
        return batch if self._writer.backlog > FINISH_BACKLOG else None

    def _remember(self, account: Account) -> None:
        self._snapshots[account.user_id] = account
        self._snapshots.move_to_end(account.user_id)
        if len(self._snapshots) > SNAPSHOTS:
            self._snapshots.popitem(last=False)

    def count_later(self, counted: Counted) -> asyncio.Future[None]:
        """Count provider usage with the next ledger batch (the `UsageCounter` port)."""
        return self._writer.count_later(counted)

    async def settle(self) -> None:
        """Wait until this process's charges have their ledger entries written and slots cleared,
        and its provider usage is counted; one round over its owed refunds."""
        await self._writer.settle()
        if len(self._owed):
            await self._owed.pay_due(older_than=self._owed.in_doubt_s)

    async def aclose(self) -> None:
        """At shutdown: the refunds under way, then settle, then name the refunds still owed (lost with
        this process)."""
        loop = asyncio.get_running_loop()  # (a task on a closed loop is gone)
        await asyncio.gather(*(t for t in self._refunding if t.get_loop() is loop), return_exceptions=True)
        await self._lanes.aclose()
        await self.settle()
        self._owed.forget()
