"""The API keys' storage port and its records (a key, a change, a use)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.platform.key_limits import SCOPES, KeyLimits


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key's public record (never the secret)."""

    id: str
    user_id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    scopes: tuple[str, ...] = SCOPES
    expires_at: datetime | None = None
    daily_credit_cap: int | None = None
    monthly_credit_cap: int | None = None
    models: tuple[str, ...] | None = None
    allowed_ips: tuple[str, ...] | None = None

    @property
    def limits(self) -> KeyLimits:
        """What requests through this key may do (request-scoped, see key_limits)."""
        return KeyLimits(key_id=self.id, scopes=frozenset(self.scopes),
                         models=frozenset(self.models) if self.models is not None else None,
                         daily_credit_cap=self.daily_credit_cap, monthly_credit_cap=self.monthly_credit_cap)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def allows_ip(self, ip: str) -> bool:
        """Whether the client address `ip` is in one of the allowed networks (no list: any)."""
        if self.allowed_ips is None:
            return True
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in ipaddress.ip_network(net, strict=False) for net in self.allowed_ips)


@dataclass(frozen=True, slots=True)
class KeyChanges:
    """Limits to set on a key: only the fields named in `fields` change (None clears a limit)."""

    values: dict[str, Any] = field(default_factory=dict)

    @property
    def fields(self) -> set[str]:
        return set(self.values)


@dataclass(frozen=True, slots=True)
class KeyUsage:
    """A key with what it spent in the current UTC day and month."""

    key: ApiKey
    spent_today: int
    spent_this_month: int


class ApiKeyRepository(Protocol):
    """Storage of API key records."""

    async def create(self, *, user_id: str, name: str, prefix: str, secret_hash: str,
                     limits: dict[str, Any] | None = None) -> ApiKey: ...

    async def update(self, key_id: str, *, user_id: str, changes: dict[str, Any]) -> ApiKey | None: ...

    async def get_active_by_hash(self, secret_hash: str) -> ApiKey | None: ...

    async def list_for_user(self, user_id: str) -> list[ApiKey]: ...

    async def revoke(self, key_id: str, *, user_id: str, at: datetime) -> bool: ...

    async def revoke_all(self, user_id: str, *, at: datetime) -> int: ...

    async def touch(self, key_id: str, *, at: datetime) -> None: ...
