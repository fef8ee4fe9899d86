"""The ledger side of a credit op: write the entries of applied ops, clear their pending slots, feed
the usage rollup; for charges, in batches off the request path.

Charges (and admin adjustments: ops keyed by their own id, never a twin's) are finished off the
request path: their ledger entries are written and their pending slots cleared in batches, one
insert and one update per account per burst (issue 12). The op is durable in its account's pending
slot from the moment it is applied, so a crash before the batch leaves it to reconcile ("repaired"),
exactly as a crash between the two writes always did. Reads of the ledger in this process (`ledger`,
`audit`, `reconcile`, the admin views) `settle()` first; another process sees the entry within the
batch's round trips.
"""

from __future__ import annotations

import asyncio

import structlog

from services.credits.model import Op
from services.credits.ports import CreditAccountRepository, LedgerRepository, UsageRollup

log = structlog.stdlib.get_logger("muse.credits")


class LedgerWriter:
    """Finishes applied ops (services/credits/service.py `CreditsService` applies them)."""

    def __init__(self, accounts: CreditAccountRepository, ledger: LedgerRepository,
                 usage: UsageRollup | None) -> None:
        self._accounts, self._ledger, self._usage = accounts, ledger, usage
        self._to_finish: list[Op] = []
        self._batch_landed: asyncio.Future[None] | None = None  # of the batch `_to_finish` holds
        self._finishing: asyncio.Task[None] | None = None

    @property
    def backlog(self) -> int:
        """Charges queued for the next batch."""
        return len(self._to_finish)

    async def finish_safely(self, op: Op) -> str:
        try:
            return (await self.finish([op]))[0]
        except Exception:
            # The account change is durable and parked as pending; reconcile writes the entry.
            log.exception("credit_ledger_write_deferred", op_id=op.id, user_id=op.user_id)
            return "deferred"

    async def finish(self, ops: list[Op]) -> list[str]:
        """Write the ledger entries of parked ops, then clear their slots (undoing any whose key
        another op took): the outcome of each. Until both writes are done the ops stay parked."""
        outcomes = await self._ledger.insert_many(ops)
        await self._roll_up([op for op, outcome in zip(ops, outcomes, strict=True) if outcome == "inserted"])
        written = []
        for op, outcome in zip(ops, outcomes, strict=True):
            if outcome == "duplicate_key":
                await self._accounts.undo(op)
                log.warning("credit_op_duplicate_undone", op_id=op.id, key=op.key)
            else:
                written.append((op.user_id, op.key))
        await self._accounts.clear_pending_many(written)
        return list(outcomes)

    async def _roll_up(self, ops: list[Op]) -> None:
        """Count freshly written entries in the usage rollup; a failure leaves them marked for repair."""
        if self._usage is None or not ops:
            return
        try:
            await self._usage.roll(ops)
        except Exception:
            log.exception("usage_rollup_deferred", ops=len(ops))

    def finish_later(self, op: Op) -> asyncio.Future[None]:
        """Queue `op` for the next batch; the future is done once that batch has been written."""
        loop = asyncio.get_running_loop()
        self._to_finish.append(op)
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
        while self._to_finish:
            batch, self._to_finish = self._to_finish, []
            landed, self._batch_landed = self._batch_landed, None
            try:
                await self.finish(batch)
            except Exception:  # the ops stay parked; reconcile writes or clears what is missing
                log.exception("credit_ledger_write_deferred", ops=len(batch))
            finally:
                if landed is not None and not landed.done() and not landed.get_loop().is_closed():
                    landed.set_result(None)

    async def settle(self) -> None:
        """Wait until this process's charges have their ledger entries written and slots cleared."""
        while self._to_finish or self._finishing_here():
            if not self._finishing_here():
                self._finishing = asyncio.get_running_loop().create_task(self._finish_batches())
            assert self._finishing is not None
            await asyncio.shield(self._finishing)
