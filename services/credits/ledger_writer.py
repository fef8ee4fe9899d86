"""The ledger side of a credit op: write the entries of applied ops, clear their pending slots, feed
the usage rollup; for charges, in batches off the request path. Provider usage (tokens and cost,
services/credits/metering.py) rides the same batches: it is counted in the same rollup rows, in the
same upserts, as the batch's ledger entries (issue 28: no MongoDB write of its own per request).

Charges (and admin adjustments: ops keyed by their own id, never a twin's) are finished off the
request path: their ledger entries are written and their pending slots cleared in batches, one
insert and one update per account per burst (issue 12). The op is durable in its account's pending
slot from the moment it is applied, so a crash before the batch leaves it to reconcile ("repaired"),
exactly as a crash between the two writes always did. Reads of the ledger in this process (`ledger`,
`audit`, `reconcile`, the admin views) `settle()` first; another process sees the entry within the
batch's round trips. Provider usage queued in a process that then crashes is not counted: it is
analytics (what the provider cost), never credits, and a batch is milliseconds long.
"""

from __future__ import annotations

import asyncio

import structlog

from services.credits.model import Op
from services.credits.ports import Counted, CreditAccountRepository, LedgerRepository, UsageRollup

log = structlog.stdlib.get_logger("muse.credits")


async def returned(op: Op, batch: asyncio.Future[None] | None) -> Op:
    """`op` once `batch`, if any, is written: a busy process's charges wait for their batch, so the
    ops parked in accounts stay bounded however fast charges come."""
    if batch is not None:
        await asyncio.shield(batch)
    return op


class LedgerWriter:
    """Finishes applied ops (services/credits/service.py `CreditsService` applies them)."""

    def __init__(self, accounts: CreditAccountRepository, ledger: LedgerRepository,
                 usage: UsageRollup | None) -> None:
        self._accounts, self._ledger, self._usage = accounts, ledger, usage
        self._to_finish: list[Op] = []
        self._to_count: list[Counted] = []
        self._batch_landed: asyncio.Future[None] | None = None  # of the batch `_to_finish` holds
        self._finishing: asyncio.Task[None] | None = None

    @property
    def backlog(self) -> int:
        """Charges queued for the next batch (parked in their accounts until written; provider usage
        queued beside them parks nothing and is bounded by the requests in flight)."""
        return len(self._to_finish)

    async def finish_safely(self, op: Op) -> str:
        try:
            return (await self.finish([op]))[0]
        except Exception:
            # The account change is durable and parked as pending; reconcile writes the entry.
            log.exception("credit_ledger_write_deferred", op_id=op.id, user_id=op.user_id)
            return "deferred"

    async def finish(self, ops: list[Op], counted: list[Counted] | None = None) -> list[str]:
        """Write the ledger entries of parked ops, then clear their slots (undoing any whose key
        another op took): the outcome of each. Until both writes are done the ops stay parked.
        Then `counted` provider usage is rolled up with the entries written.

        The slots are cleared before the roll-up, not after it: a busy account holds every op parked
        in it, and every guarded update rewrites (and nx-27017 also parses and copies) the whole
        document, so each round trip a slot stays parked is paid by every charge meanwhile (issue
        28). The roll-up does not need the slots: an entry not rolled up keeps its `unrolled` mark
        in the ledger, and the repair counts it."""
        try:
            outcomes = await self._ledger.insert_many(ops) if ops else []
        except BaseException:
            await self._roll_up([], counted or [])
            raise
        try:
            written = []
            for op, outcome in zip(ops, outcomes, strict=True):
                if outcome == "duplicate_key":
                    await self._accounts.undo(op)
                    log.warning("credit_op_duplicate_undone", op_id=op.id, key=op.key)
                else:
                    written.append((op.user_id, op.key))
            if written:
                await self._accounts.clear_pending_many(written)
        finally:
            inserted = [op for op, outcome in zip(ops, outcomes, strict=True) if outcome == "inserted"]
            await self._roll_up(inserted, counted or [])
        return list(outcomes)

    async def _roll_up(self, ops: list[Op], counted: list[Counted]) -> None:
        """Count freshly written entries (a failure leaves them marked for repair) and provider usage
        (a failure loses it, logged) in the usage rollup."""
        if self._usage is None or not (ops or counted):
            return
        try:
            await self._usage.roll(ops, counted)
        except Exception:
            log.exception("usage_rollup_deferred", ops=len(ops))
            if counted:
                log.warning("provider_usage_not_recorded", calls=len(counted))

    def finish_later(self, op: Op) -> asyncio.Future[None]:
        """Queue `op` for the next batch; the future is done once that batch has been written."""
        self._to_finish.append(op)
        return self._next_batch()

    def count_later(self, counted: Counted) -> asyncio.Future[None]:
        """Queue provider usage for the next batch (services/credits/ports.py `UsageCounter`)."""
        if self._usage is None:  # nothing to count in (tests and tools without the rollup)
            done = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        self._to_count.append(counted)
        return self._next_batch()

    def _next_batch(self) -> asyncio.Future[None]:
        """The future of the batch being queued, with a task to write it."""
        loop = asyncio.get_running_loop()
        landed = self._batch_landed
        if landed is None or landed.get_loop() is not loop:  # one left on a closed loop is forgotten
            landed = self._batch_landed = loop.create_future()
        if not self._finishing_here():
            self._finishing = loop.create_task(self._finish_batches())
        return landed

    def _finishing_here(self) -> bool:
        """A finishing task is running on this event loop (one left on a closed loop is forgotten)."""
        task = self._finishing
        return task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop()

    async def _finish_batches(self) -> None:
        while self._to_finish or self._to_count:
            batch, self._to_finish = self._to_finish, []
            counted, self._to_count = self._to_count, []
            landed, self._batch_landed = self._batch_landed, None
            try:
                await self.finish(batch, counted)
            except Exception:  # the ops stay parked; reconcile writes or clears what is missing
                log.exception("credit_ledger_write_deferred", ops=len(batch))
            finally:
                if landed is not None and not landed.done() and not landed.get_loop().is_closed():
                    landed.set_result(None)

    async def settle(self) -> None:
        """Wait until this process's charges have their ledger entries written and slots cleared, and
        its provider usage is counted."""
        while self._to_finish or self._to_count or self._finishing_here():
            if not self._finishing_here():
                self._finishing = asyncio.get_running_loop().create_task(self._finish_batches())
            assert self._finishing is not None
            await asyncio.shield(self._finishing)
