"""Sessions of Muse's own accounts (contract §17): Muse-signed JWTs backed by a session record.

A session token is an RS256 JWT shaped like Clerk's (`sub`, `sid`, `iat`, `nbf`, `exp`) with
`iss` = LOCAL_ISSUER. The auth middleware verifies it through the same verifier as Clerk tokens
(`SessionVerifier` wraps it) and then checks the session record, so logout and password reset
refuse its tokens on the very next request in every process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from services.identity.ports.accounts import Account, SessionRecord, SessionRepository, SessionTokenSigner
from services.identity.ports.identity import TokenVerifier
from services.platform.errors import Unauthorized
from services.platform.ids import new_id

LOCAL_ISSUER = "muse"
ENDED = "The session has ended; sign in again."


def now_ms() -> int:
    """Wall-clock epoch milliseconds."""
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A fresh access token of a session."""

    access_token: str
    expires_in: int
    session: SessionRecord


class SessionService:
    """Starts, checks, refreshes and ends sessions."""

    def __init__(
        self, sessions: SessionRepository, signer: SessionTokenSigner, *,
        access_ttl_s: int = 3600, session_ttl_s: int = 30 * 24 * 3600,
    ) -> None:
        self._sessions, self._signer = sessions, signer
        self._access_ttl, self.session_ttl_s = access_ttl_s, session_ttl_s

    async def start(self, account: Account) -> IssuedSession:
        """A new session of `account` and its first token."""
        record = SessionRecord(id=new_id("ses"), account_id=account.id, subject=account.subject,
                               generation=0, expires_at_ms=now_ms() + self.session_ttl_s * 1000)
        await self._sessions.create(record)
        return self._issue(record)

    async def check(self, claims: dict[str, Any]) -> None:
        """Unauthorized unless the token's session is active (the revocation check of every request)."""
        sid = claims.get("sid")
        record = await self._sessions.get(sid) if isinstance(sid, str) else None
        if record is None or record.revoked or record.expires_at_ms <= now_ms() \
                or record.subject != claims.get("sub"):
            raise Unauthorized(ENDED)

    async def refresh(self, token: str) -> IssuedSession:
        """A new token for the session of `token` (even an expired one), which stops refreshing."""
        claims = self.read(token)
        sid, generation = claims.get("sid"), claims.get("gen")
        if not isinstance(sid, str) or not isinstance(generation, int):
            raise Unauthorized(ENDED)
        expires = now_ms() + self.session_ttl_s * 1000
        now = now_ms()
        rotated = await self._sessions.rotate(sid, generation=generation, expires_at_ms=expires, now_ms=now)
        if not rotated:
            raise Unauthorized(ENDED)
        record = await self._sessions.get(sid)
        if record is None or record.revoked:
            raise Unauthorized(ENDED)
        return self._issue(record)

    async def end(self, token: str) -> bool:
        """Revoke the session of `token`; False when the token is not a session token of Muse's."""
        try:
            claims = self.read(token)
        except Unauthorized:
            return False
        return await self._sessions.revoke(str(claims.get("sid")))

    async def end_all(self, account_id: str, *, except_id: str | None = None) -> int:
        """Revoke every session of an account (but `except_id`)."""
        return await self._sessions.revoke_all(account_id, except_id=except_id)

    def read(self, token: str) -> dict[str, Any]:
        """The claims of a Muse-signed session token (expiry not checked); Unauthorized otherwise."""
        claims = self._signer.decode(token) if token else None
        if claims is None or claims.get("iss") != LOCAL_ISSUER:
            raise Unauthorized(ENDED)
        return claims

    def _issue(self, record: SessionRecord) -> IssuedSession:
        now = int(time.time())
        ttl = max(1, min(self._access_ttl, (record.expires_at_ms // 1000) - now))
        token = self._signer.issue({
            "sub": record.subject, "sid": record.id, "gen": record.generation, "iss": LOCAL_ISSUER,
            "iat": now, "nbf": now - 1, "exp": now + ttl, "v": 2,
        })
        return IssuedSession(access_token=token, expires_in=ttl, session=record)


class SessionVerifier:
    """The Clerk-path verifier plus the session check: what the auth middleware uses with local accounts.

    `allow_foreign` accepts tokens of another issuer signed with the same key (the development
    tokens of `python -m app token`); everywhere else only Muse session tokens pass.
    """

    def __init__(
        self, inner: TokenVerifier, sessions: SessionService, *, allow_foreign: bool = False
    ) -> None:
        self._inner, self._sessions, self._allow_foreign = inner, sessions, allow_foreign

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token whose session is active; Unauthorized otherwise."""
        claims = await self._inner.verify(token)
        if claims.get("iss") == LOCAL_ISSUER:
            await self._sessions.check(claims)
        elif not self._allow_foreign:
            raise Unauthorized("The session token was not issued by Muse.")
        return claims
