"""Credits endpoints: the caller's credits object and ledger; admin adjustments."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.time import isoformat
from services.credits import CreditsService
from services.credits_model import Op
from services.principal import Principal


class AllowanceOut(BaseModel):
    plan: str
    limit: int
    used: int
    remaining: int
    resets_at: str


class GiftOut(BaseModel):
    tier: str
    remaining: int
    expires_at: str


class CreditsOut(BaseModel):
    allowance: AllowanceOut
    gift: GiftOut | None
    balance: int
    spendable: int


class LedgerQuery(BaseModel):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None


class LedgerEntryOut(BaseModel):
    id: str
    at: str
    delta: int
    kind: str
    sources: dict[str, int]
    balance_after: int | None
    ref: str | None
    request_id: str | None
    reason: str | None


class LedgerPageOut(BaseModel):
    items: list[LedgerEntryOut]
    next_cursor: str | None


def entry_out(op: Op) -> dict[str, Any]:
    """A ledger entry as the API shows it."""
    return {"id": op.id, "at": isoformat(op.at), "delta": op.delta, "kind": op.kind,
            "sources": op.sources, "balance_after": op.balance_after, "ref": op.ref,
            "request_id": op.request_id, "reason": op.reason}


class CreditsController:
    def __init__(self, credits: CreditsService) -> None:
        self._credits = credits

    async def summary(self, principal: Principal) -> dict[str, Any]:
        """The caller's credits object."""
        return await self._credits.summary(principal.user_id or "", plan=principal.plan)

    async def ledger(self, principal: Principal, query: LedgerQuery) -> dict[str, Any]:
        """A page of the caller's ledger, newest first."""
        items, cursor = await self._credits.ledger(principal.user_id or "", limit=query.limit,
                                                   cursor=query.cursor)
        return {"items": [entry_out(op) for op in items], "next_cursor": cursor}
