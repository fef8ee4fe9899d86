"""Ports of Muse's own accounts (contract §17): storage, password hashing and session tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

TokenPurpose = Literal["verify_email", "password_reset"]


@dataclass(frozen=True, slots=True)
class Account:
    """An email-and-password login of one Muse user (`subject` is the user's `clerk_id`)."""

    id: str
    email: str
    password_hash: str
    subject: str
    created_at: datetime
    email_verified_at: datetime | None = None
    password_changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A signed-in session; its tokens are valid while it is neither revoked nor expired."""

    id: str
    account_id: str
    subject: str
    generation: int
    expires_at_ms: int
    revoked: bool = False


class AccountRepository(Protocol):
    """Accounts, unique by normalised email."""

    async def create(self, account: Account) -> bool:
        """Store a new account; False when the email is taken."""
        ...

    async def get(self, account_id: str) -> Account | None: ...

    async def get_by_email(self, email: str) -> Account | None: ...

    async def set_password(self, account_id: str, password_hash: str, *, at: datetime) -> None: ...

    async def mark_verified(self, account_id: str, *, at: datetime) -> bool:
        """Note the address confirmed; True when this call did (it was not confirmed before)."""
        ...

    async def delete(self, account_id: str) -> bool:
        """Remove the account and its one-time tokens (its email is free again); False if none."""
        ...


@dataclass(frozen=True, slots=True)
class Strength:
    """How guessable a password is: `score` 0 (too guessable) … 4, and why (never the password)."""

    score: int
    warning: str = ""
    suggestions: tuple[str, ...] = ()


class PasswordStrength(Protocol):
    """A password strength estimator (providers/zxcvbn_strength.py)."""

    def estimate(self, password: str, *, user_inputs: Sequence[str] = ()) -> Strength: ...


class SessionRepository(Protocol):
    """Session records; revocation must be seen by every process on its next request."""

    async def create(self, record: SessionRecord) -> None: ...

    async def get(self, session_id: str) -> SessionRecord | None: ...

    async def rotate(self, session_id: str, *, generation: int, expires_at_ms: int, now_ms: int) -> bool:
        """Move an active, unexpired session at `generation` to the next one; False otherwise."""
        ...

    async def revoke(self, session_id: str) -> bool: ...

    async def revoke_all(self, account_id: str, *, except_id: str | None = None) -> int: ...


class OneTimeTokenRepository(Protocol):
    """Single-use tokens (email verification, password reset), stored only as hashes."""

    async def create(self, *, token_hash: str, purpose: TokenPurpose, account_id: str,
                     expires_at_ms: int) -> None: ...

    async def consume(self, token_hash: str, *, purpose: TokenPurpose, now_ms: int) -> str | None:
        """Mark an unused, unexpired token used (once, even under races); its account id or None."""
        ...

    async def discard_all(self, account_id: str, *, purpose: TokenPurpose) -> None: ...


class PasswordHasher(Protocol):
    """A slow, salted password hash (argon2id)."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class SessionTokenSigner(Protocol):
    """Signs Muse session JWTs and reads back their claims."""

    def issue(self, claims: dict[str, Any]) -> str: ...

    def decode(self, token: str) -> dict[str, Any] | None:
        """The claims of a token Muse signed, ignoring expiry (for refresh/logout); None otherwise."""
        ...
