"""Identity ports: session-token verification, user profiles and signed webhooks (Clerk first).

Implementations: `providers/clerk.py` (`ClerkTokenVerifier`, `ClerkUsersClient` (profiles, deletion),
`ClerkWebhookVerifier`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class TokenVerifier(Protocol):
    """Verifies a session token and returns its claims (raises `Unauthorized`)."""

    async def verify(self, token: str) -> dict[str, Any]: ...


@runtime_checkable
class ProfileSource(Protocol):
    """Reads a user's profile at the identity provider (None when unknown)."""

    async def get_user(self, clerk_id: str) -> dict[str, Any] | None: ...


@runtime_checkable
class UserDeleter(Protocol):
    """Deletes a user at the identity provider (account deletion); an unknown user is already gone.
    Raises `UpstreamError` when the provider cannot be reached or refuses."""

    async def delete_user(self, clerk_id: str) -> None: ...


@runtime_checkable
class WebhookVerifier(Protocol):
    """Checks a signed webhook delivery and returns its event (raises `InvalidWebhook`)."""

    def verify(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]: ...


class DevTokens(Protocol):
    """Development sign-in (APP_ENV=development without Clerk): session tokens shaped like Clerk's,
    signed with the development key pair (`providers/dev_keys.py`)."""

    def mint(self, subject: str, *, ttl_s: int, email: str | None, muse_role: str | None) -> str: ...
