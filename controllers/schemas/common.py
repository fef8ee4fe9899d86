"""Response models and bodies shared by several controllers: the contract §3 credits object,
ledger entries and the user fields every user view shows."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

from pydantic import BaseModel

from services.identity.users import User
from services.platform.clock import isoformat


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
    """The contract §3 credits object."""

    allowance: AllowanceOut
    gift: GiftOut | None
    balance: int
    spendable: int


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


class AdminLedgerEntryOut(LedgerEntryOut):
    """A ledger entry as admins see it: with the adjusting admin's id."""

    admin_id: str | None


LEDGER_FIELDS = tuple(LedgerEntryOut.model_fields)
ADMIN_LEDGER_FIELDS = tuple(AdminLedgerEntryOut.model_fields)


def entry_out(entry: Any, *, fields: tuple[str, ...] = LEDGER_FIELDS) -> dict[str, Any]:
    """A ledger entry (Op dataclass or stored document) as the API shows it."""
    data = asdict(entry) if is_dataclass(entry) and not isinstance(entry, type) else dict(entry)
    out = {name: data.get(name) for name in fields}
    out["at"] = isoformat(out["at"])
    out["sources"] = out["sources"] or {}
    return out


class UserOut(BaseModel):
    """The fields every view of a user shows."""

    id: str
    clerk_id: str
    email: str | None
    name: str | None
    role: str
    plan: str
    created_at: str


def user_fields(user: User) -> dict[str, Any]:
    """The `UserOut` fields of a user."""
    return {"id": user.id, "clerk_id": user.clerk_id, "email": user.email, "name": user.name,
            "role": user.role.name, "plan": user.plan, "created_at": isoformat(user.created_at)}
