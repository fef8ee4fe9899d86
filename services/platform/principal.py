"""Who is calling: roles and the principal attached to each request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from services.platform.errors import Unauthorized
from services.platform.key_limits import KeyLimits


class Role(IntEnum):
    """Ordered roles: a higher role includes every lower one."""

    USER = 1
    SUBSCRIBER = 2
    ADMIN = 3

    @classmethod
    def parse(cls, value: str) -> Role:
        return cls[value.upper()]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated (or anonymous) caller of one request."""

    kind: Literal["user", "api_key", "anonymous"]
    rate_key: str
    user_id: str | None = None
    clerk_id: str | None = None
    role: Role = Role.USER
    plan: str = "free"
    api_key_id: str | None = None
    # The caller's address after trusted proxies (middlewares/client_ip.py): the one that rate
    # limits, sign-in throttles, API-key IP allowlists, logs and audit use.
    client_ip: str | None = None
    key_limits: KeyLimits | None = None  # what an API key may do (scopes, models, caps)

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    def has_role(self, role: Role) -> bool:
        return self.is_authenticated and self.role >= role

    def require_user_id(self) -> str:
        """The caller's user id, for the routes that act for a user (`@require_role(Role.USER)` and up);
        401 for a principal without one (such a route never lets one through)."""
        if self.user_id is None:
            raise Unauthorized()
        return self.user_id

    @classmethod
    def anonymous(cls, ip: str) -> Principal:
        return cls(kind="anonymous", rate_key=f"ip:{ip}", client_ip=ip)
