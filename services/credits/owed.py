"""Refunds the store could not take when they fell due, kept and retried until they land.

A request that fails after its charge refunds it. When the store does not answer (often the very
outage that failed the request) the refund is owed: this process keeps it and retries it with backoff
until it lands; `settle` and `reconcile` try it too. A refund is once per charge, so a retry after a
refund whose answer was lost finds it done.

A charge whose write failed without an answer (the connection dropped, the store timed out) may
have landed all the same. It is owed as a void: once the store answers and the write can no longer
be in flight (`in_doubt_s` after it failed), the charge is refunded if it is found, and forgotten
if it is not. So a request answered with an error keeps no charge, whichever write the outage cut.

What only a process that dies loses: its owed refunds (named in the `credit_refunds_lost` log at
shutdown); their charges stay, as a charge cut by a crash always did.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from services.credits.model import Op, Receipt

log = structlog.stdlib.get_logger("muse.credits")

BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 5.0)  # between rounds of retries; the last one repeats


@dataclass(slots=True)
class Owed:
    """A refund that fell due while the store did not answer (a void: the charge itself is in doubt)."""

    receipt: Receipt
    reason: str
    request_id: str | None
    void: bool
    since: float = field(default_factory=time.monotonic)

    @classmethod
    def void_of(cls, charge: Op) -> Owed:
        """The void of a charge whose write had no answer (`charge_in_doubt`)."""
        return cls(Receipt(id=charge.id, user_id=charge.user_id, amount=-charge.delta,
                           sources={p: -v for p, v in charge.sources.items() if v}),
                   "charge_in_doubt", charge.request_id, void=True)


# Pays one owed refund: True once it is settled (refunded, now or before; for a void whose charge is not
# found, once it is `older_than` seconds old); raises while the store does not answer.
Pay = Callable[[Owed, float], Awaitable[bool]]


class OwedRefunds:
    """This process's owed refunds, and the one task that retries them."""

    def __init__(self, pay: Pay, *, in_doubt_s: float) -> None:
        self._pay, self.in_doubt_s = pay, in_doubt_s
        self._owed: list[Owed] = []
        self._retrying: asyncio.Task[None] | None = None
        self._round: asyncio.Task[int] | None = None

    def __len__(self) -> int:
        return len(self._owed)

    def owe(self, owed: Owed) -> None:
        """Keep `owed` and make sure a task retries it."""
        self._owed.append(owed)
        log.warning("credit_refund_owed", receipt_id=owed.receipt.id, user_id=owed.receipt.user_id,
                    reason=owed.reason, void=owed.void)
        loop = asyncio.get_running_loop()
        task = self._retrying
        if task is None or task.done() or task.get_loop() is not loop:  # one on a closed loop is forgotten
            self._retrying = loop.create_task(self._retry())

    async def _retry(self) -> None:
        step = 0
        while self._owed:
            await asyncio.sleep(BACKOFF_S[min(step, len(BACKOFF_S) - 1)])
            step += 1
            await self.pay_due(older_than=self.in_doubt_s)

    async def pay_due(self, *, older_than: float) -> int:
        """One round over the owed refunds, after any round already running: how many stay owed.
        A void whose charge is not found is forgotten once it is `older_than` seconds old."""
        loop = asyncio.get_running_loop()
        while (running := self._round) is not None and not running.done() and running.get_loop() is loop:
            await asyncio.shield(running)
        if not self._owed:
            return 0
        running = self._round = loop.create_task(self._pay_round(older_than))
        return await asyncio.shield(running)

    async def _pay_round(self, older_than: float) -> int:
        for owed in list(self._owed):
            try:
                settled = await self._pay(owed, older_than)
            except Exception as exc:  # noqa: BLE001 - the store still does not answer: owed still
                log.info("credit_refund_retry_failed", receipt_id=owed.receipt.id, error=type(exc).__name__)
                self._owed.remove(owed)  # the next round starts with the others (one never blocks them)
                self._owed.append(owed)
                break  # the rest would wait for the same store: the next round tries again
            if settled:
                self._owed.remove(owed)
                log.warning("credit_refund_paid", receipt_id=owed.receipt.id, void=owed.void,
                            owed_s=round(time.monotonic() - owed.since, 3))
        return len(self._owed)

    def forget(self) -> None:
        """At shutdown: log what is still owed (lost with this process) and stop retrying."""
        if self._owed:
            log.error("credit_refunds_lost", receipts=[o.receipt.id for o in self._owed])
        self._owed.clear()
        if self._retrying is not None and not self._retrying.done():
            self._retrying.cancel()
