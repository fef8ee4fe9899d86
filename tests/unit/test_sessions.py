"""Session rules with a hand-written repository: refresh after expiry, once per token; revocation."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime

import pytest

from providers.dev_keys import generate_key_pair
from providers.session_tokens import RsaSessionTokenSigner
from services.identity.ports.accounts import Account, SessionRecord
from services.identity.sessions import LOCAL_ISSUER, SessionService, SessionVerifier
from services.platform.errors import Unauthorized

PRIVATE, _ = generate_key_pair()
ACCOUNT = Account(id="acc_1", email="a@example.com", password_hash="x", subject="local:acc_1",
                  created_at=datetime(2026, 1, 1))


class FakeSessionRepository:
    def __init__(self) -> None:
        self.rows: dict[str, SessionRecord] = {}

    async def create(self, record: SessionRecord) -> None:
        self.rows[record.id] = record

    async def get(self, session_id: str) -> SessionRecord | None:
        return self.rows.get(session_id)

    async def rotate(self, session_id: str, *, generation: int, expires_at_ms: int, now_ms: int) -> bool:
        row = self.rows.get(session_id)
        if row is None or row.revoked or row.generation != generation or row.expires_at_ms <= now_ms:
            return False
        self.rows[session_id] = dataclasses.replace(row, generation=generation + 1,
                                                    expires_at_ms=expires_at_ms)
        return True

    async def revoke(self, session_id: str) -> bool:
        row = self.rows.get(session_id)
        if row is None or row.revoked:
            return False
        self.rows[session_id] = dataclasses.replace(row, revoked=True)
        return True

    async def revoke_all(self, account_id: str, *, except_id: str | None = None) -> int:
        ids = [k for k, r in self.rows.items()
               if r.account_id == account_id and not r.revoked and k != except_id]
        for key in ids:
            await self.revoke(key)
        return len(ids)


class FakeVerifier:
    """Stands in for the Clerk-path verifier: signature only."""

    def __init__(self, signer: RsaSessionTokenSigner) -> None:
        self._signer = signer

    async def verify(self, token: str) -> dict:
        claims = self._signer.decode(token)
        if claims is None:
            raise Unauthorized()
        return claims


@pytest.fixture
def parts():
    repo, signer = FakeSessionRepository(), RsaSessionTokenSigner(PRIVATE)
    return repo, signer, SessionService(repo, signer, access_ttl_s=60, session_ttl_s=3600)


async def test_an_expired_token_refreshes_once_while_its_session_lives(parts):
    repo, signer, sessions = parts
    issued = await sessions.start(ACCOUNT)
    claims = signer.decode(issued.access_token)
    expired = signer.issue({**claims, "iat": int(time.time()) - 120, "exp": int(time.time()) - 60})
    renewed = await sessions.refresh(expired)
    assert signer.decode(renewed.access_token)["gen"] == 1 and renewed.expires_in == 60
    with pytest.raises(Unauthorized):
        await sessions.refresh(expired)  # that generation is spent


async def test_a_token_of_another_key_or_issuer_cannot_refresh_or_end_a_session(parts):
    repo, signer, sessions = parts
    issued = await sessions.start(ACCOUNT)
    claims = signer.decode(issued.access_token)
    forged = RsaSessionTokenSigner(generate_key_pair()[0]).issue(claims)
    foreign = signer.issue({**claims, "iss": "https://clerk.example.com"})
    for token in (forged, foreign, "garbage"):
        with pytest.raises(Unauthorized):
            await sessions.refresh(token)
        assert await sessions.end(token) is False
    assert not repo.rows[issued.session.id].revoked


async def test_the_verifier_refuses_ended_sessions_and_foreign_tokens(parts):
    repo, signer, sessions = parts
    verifier = SessionVerifier(FakeVerifier(signer), sessions)
    one, two = await sessions.start(ACCOUNT), await sessions.start(ACCOUNT)
    assert (await verifier.verify(one.access_token))["iss"] == LOCAL_ISSUER
    assert await sessions.end_all(ACCOUNT.id, except_id=two.session.id) == 1
    with pytest.raises(Unauthorized):
        await verifier.verify(one.access_token)
    assert (await verifier.verify(two.access_token))["sid"] == two.session.id
    dev = signer.issue({"sub": "user_dev", "exp": int(time.time()) + 60, "iss": "https://muse.dev.local"})
    with pytest.raises(Unauthorized):
        await verifier.verify(dev)
    lenient = SessionVerifier(FakeVerifier(signer), sessions, allow_foreign=True)
    assert (await lenient.verify(dev))["sub"] == "user_dev"
