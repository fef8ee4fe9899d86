"""Charges of one account that come while another of its charges is being written go in one write.

A charge is one guarded update of its account (services/credits/service.py `_run`). On a busy
account (an API key driving many requests at once) those updates queue at the store one behind the
other, and each rewrites the whole account document with every op parked in it (issue 28). So while
a charge of an account is on its way to the store, the next charges of that account wait here. Once
it answers, they are made one after the other from the account as it left it (`after_charge`) and
written in one guarded update that parks them all (`merged_charges`). The merged guards hold exactly
when each charge's would have held in turn, so nothing is overdrawn, and each charge's balance after
is exact, because the write is atomic.

A waiting charge gets:
- its op, written (its ledger entry follows in the charges' batch, as any charge's does);
- None when it was not written: the merged guard failed (another process moved the account), the
  account as left could not pay it, or the changes do not merge. The caller makes it again from a
  fresh read, alone (so a 402 is only ever raised on a fresh read);
- the write's error when the store did not answer. Its op may have landed, so it is owed as a void,
  as a lone charge's is.
A waiting charge whose caller is cancelled is dropped if its write has not started. If the write has
started, it is owed as a void.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from services.credits.model import Account, Change, Op, after_charge, merged_charges
from services.credits.ports import CreditAccountRepository
from services.platform.errors import InsufficientCredits

log = structlog.stdlib.get_logger("muse.credits")

Build = Callable[[Account], tuple[Op, Change] | None]
# What a written charge is handed to: the ledger batch it must wait for (too many unwritten), or None.
Landed = Callable[[Op, Account], "asyncio.Future[None] | None"]


class _Waiting:
    __slots__ = ("batch", "build", "done", "op")

    def __init__(self, build: Build | None, done: asyncio.Future[Op | None]) -> None:
        self.build, self.done = build, done
        self.op: Op | None = None  # made and handed to a write
        self.batch: asyncio.Future[None] | None = None

    def settle(self, outcome: Op | BaseException | None) -> None:
        if self.done.done():
            return
        if isinstance(outcome, BaseException):
            self.done.set_exception(outcome)
        else:
            self.done.set_result(outcome)


class ChargeLanes:
    """One lane per account with a charge on its way to the store; charges that come meanwhile wait."""

    def __init__(self, accounts: CreditAccountRepository, *, landed: Landed,
                 in_doubt: Callable[[Op], None]) -> None:
        self._accounts, self._landed, self._in_doubt = accounts, landed, in_doubt
        self._busy: dict[str, asyncio.AbstractEventLoop] = {}
        self._waiting: dict[str, list[_Waiting]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def busy(self, user_id: str) -> bool:
        """A charge of this account is being written (by this process, on this event loop)."""
        loop = self._busy.get(user_id)
        if loop is None:
            return False
        if loop is not asyncio.get_running_loop():  # a lane left on a closed loop is forgotten
            del self._busy[user_id]
            self._waiting.pop(user_id, None)
            return False
        return True

    async def alone(self, op: Op, change: Change) -> Account | None:
        """Write one charge; charges of its account that come meanwhile wait, then go in one write."""
        holding = not self.busy(op.user_id)
        if holding:
            self._busy[op.user_id] = asyncio.get_running_loop()
        after = None
        try:
            after = await self._accounts.apply(op, change)
            return after
        finally:
            if holding:
                self._release(op.user_id, after)

    async def join(self, user_id: str, build: Build) -> tuple[Op, asyncio.Future[None] | None] | None:
        """Wait for the write under way, then go in the next one: the op written and the ledger batch
        to wait for (`Landed`), or None when it was not written (the caller makes it again, alone,
        from a fresh read)."""
        waiting = _Waiting(build, asyncio.get_running_loop().create_future())
        self._waiting.setdefault(user_id, []).append(waiting)
        try:
            op = await asyncio.shield(waiting.done)
        except asyncio.CancelledError:
            waiting.build = None  # not made yet: dropped
            waiting.done.add_done_callback(lambda done: done.cancelled() or done.exception())  # seen
            if waiting.op is not None:  # made and handed to a write: it may land
                self._in_doubt(waiting.op)
            raise
        return None if op is None else (op, waiting.batch)

    def _release(self, user_id: str, after: Account | None) -> None:
        """The lone write answered (`after`; None if it failed or raised): write what waited behind it."""
        if not self._waiting.get(user_id):
            self._busy.pop(user_id, None)
            return
        task = asyncio.get_running_loop().create_task(self._write_waiting(user_id, after))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_waiting(self, user_id: str, base: Account | None) -> None:
        try:
            while queue := [w for w in self._waiting.pop(user_id, []) if w.build is not None]:
                try:
                    base = await self._write(user_id, queue, base)
                except BaseException as exc:  # a fault here, not the store's: none may wait forever
                    for waiting in queue:
                        if not waiting.done.done() and waiting.op is not None:
                            self._in_doubt(waiting.op)
                        waiting.settle(exc if isinstance(exc, Exception) else None)
                    if not isinstance(exc, Exception):
                        raise
                    log.exception("charge_lane_fault", user_id=user_id, charges=len(queue))
                    base = None
        finally:
            self._busy.pop(user_id, None)
            for waiting in self._waiting.pop(user_id, []):  # only if the loop above failed
                waiting.settle(None)

    async def _write(self, user_id: str, queue: list[_Waiting], base: Account | None) -> Account | None:
        """One merged write of the charges in `queue`: the account after it, or None if unknown."""
        try:
            account = base or await self._accounts.ensure(user_id)
        except Exception as exc:  # noqa: BLE001 - the store did not answer: nothing was written
            for waiting in queue:
                waiting.settle(exc)
            return None
        made: list[tuple[_Waiting, Op, Change]] = []
        alone: list[_Waiting] = []  # not written here: made again from a fresh read
        for waiting in queue:
            if waiting.build is None:  # its caller was cancelled during the read
                continue
            try:
                built = waiting.build(account)
            except InsufficientCredits:
                alone.append(waiting)
                continue
            except Exception as exc:  # noqa: BLE001 - the caller's own error
                waiting.settle(exc)
                continue
            if built is None:
                alone.append(waiting)
                continue
            waiting.op = built[0]
            made.append((waiting, *built))
            account = after_charge(account, built[1])
        after = await self._apply(made) if made else None
        for waiting in alone:
            waiting.settle(None)
        return after

    async def _apply(self, made: list[tuple[_Waiting, Op, Change]]) -> Account | None:
        change = made[0][2] if len(made) == 1 else merged_charges([c for _, _, c in made])
        after = None
        try:
            if change is not None:
                after = await self._accounts.apply_many([op for _, op, _ in made], change)
        except BaseException as exc:  # no answer: each may have landed
            for waiting, op, _ in made:
                self._in_doubt(op)
                waiting.settle(exc if isinstance(exc, Exception) else None)
            if not isinstance(exc, Exception):
                raise
            return None
        if after is None:
            for waiting, _, _ in made:
                waiting.op = None  # not written: nothing in doubt
                waiting.settle(None)
            return None
        balance = after.balance
        for _, op, change_made in reversed(made):
            op.balance_after, balance = balance, balance - change_made.balance
        for waiting, op, _ in made:
            waiting.batch = self._landed(op, after)
            waiting.settle(op)
        return after

    async def aclose(self) -> None:
        """Wait for the merged writes under way on this event loop."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(t for t in self._tasks if t.get_loop() is loop), return_exceptions=True)
