"""The one charge → run → refund-on-failure guard used wherever a generation is charged.

    async with charged(credits, Charge(user_id, price, plan=..., kind="chat", ref=msg_id),
                       refund_reason="provider_failed", request_id=rid) as receipt:
        answer = await run()

The charge happens on entry (InsufficientCredits leaves nothing to refund);
any exception inside the block, cancellation included, refunds it once and
propagates. A block that hands the receipt on (a stream still being relayed,
an image job recorded for the worker) leaves the later refund to its new owner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from services.credits.model import Receipt
from services.credits.ports import Credits


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
        await credits.refund(receipt, reason=refund_reason, request_id=request_id)
        raise
