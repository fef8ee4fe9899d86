"""Muse's own accounts (contract §17): register, sign in, verify the email, reset the password.

An account is a login (normalised email + argon2id hash) of an ordinary Muse user whose
`clerk_id` is `local:<account id>`; the user is made through UserService.ensure_clerk_user,
so roles, plans, API keys, admin management and the once-only signup grant work as for Clerk
users. Failures have one shape: an unknown email costs the same hash check as a wrong password.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any

import structlog

from services.identity.login_throttle import LoginThrottle
from services.identity.passwords import PasswordPolicy
from services.identity.ports.accounts import (
    Account,
    AccountRepository,
    OneTimeTokenRepository,
    PasswordHasher,
    TokenPurpose,
)
from services.identity.ports.email import EmailMessage, EmailSender
from services.identity.sessions import IssuedSession, SessionService, now_ms
from services.identity.users import User, UserService
from services.platform.clock import utcnow
from services.platform.errors import AccountDisabled, Conflict, Gone, Unauthorized, ValidationFailed
from services.platform.ids import new_id

log = structlog.stdlib.get_logger("muse.accounts")

SUBJECT_PREFIX = "local:"
BAD_LOGIN = "The email or password is incorrect."
BAD_TOKEN = "This link is invalid, expired or already used."
VERIFY_TTL_S = 48 * 3600
RESET_TTL_S = 3600
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The result of register, login, refresh and reset: a session token and its user."""

    issued: IssuedSession
    user: User


def normalise_email(email: str) -> str:
    """Trimmed, lowercased; ValidationFailed (422) when it is not an address."""
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValidationFailed("The email address is not valid.",
                               errors=[{"loc": ["body", "email"], "msg": "Not a valid email address."}])
    return value


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountService:
    """The rules of email-and-password accounts."""

    def __init__(
        self,
        accounts: AccountRepository,
        tokens: OneTimeTokenRepository,
        sessions: SessionService,
        users: UserService,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        throttle: LoginThrottle,
        mailer: EmailSender,
        *,
        base_url: str,
        require_verified_email: bool = True,
    ) -> None:
        self._accounts, self._tokens, self._sessions = accounts, tokens, sessions
        self._users, self._hasher, self._policy = users, hasher, policy
        self._throttle, self._mailer, self._base_url = throttle, mailer, base_url
        # AUTH_REQUIRE_VERIFIED_EMAIL: the signup grant waits for the confirmed address, so
        # throwaway addresses cannot farm free credits.
        self._require_verified = require_verified_email
        self._dummy_hash: str | None = None
        self._background: set[asyncio.Task[None]] = set()

    async def register(self, email: str, password: str, *, name: str | None = None) -> SignedIn:
        """A new account, its user and a first session; Conflict if taken. The signup grant comes with
        it, or with the confirmed email when AUTH_REQUIRE_VERIFIED_EMAIL is on."""
        email = normalise_email(email)
        await asyncio.to_thread(self._policy.check, password, email=email, name=name)
        account_id = new_id("acc")
        account = Account(id=account_id, email=email, password_hash=await self._hasher.hash(password),
                          subject=SUBJECT_PREFIX + account_id, created_at=utcnow())
        if not await self._accounts.create(account):
            raise Conflict("An account with this email already exists.")
        user = await self._user_of(account, name=name)
        log.info("account_registered", account_id=account.id, user_id=user.id)
        self._spawn(self._send_token(account, "verify_email"))
        return SignedIn(await self._sessions.start(account), user)

    async def login(self, email: str, password: str, *, ip: str) -> SignedIn:
        """A new session for the right email and password; Unauthorized (one message) otherwise."""
        try:
            email = normalise_email(email)
        except ValidationFailed:
            email = email.strip().lower()[:254]  # same answer as an unknown address
        reservation = await self._throttle.reserve(ip=ip, email=email)
        account = await self._accounts.get_by_email(email)
        stored = account.password_hash if account is not None else await self._dummy()
        if not await self._hasher.verify(stored, password) or account is None:
            log.info("login_failed", account_id=account.id if account else None)
            raise Unauthorized(BAD_LOGIN)
        await self._throttle.release(reservation)
        if self._hasher.needs_rehash(account.password_hash):
            await self._accounts.set_password(account.id, await self._hasher.hash(password), at=utcnow())
        user = await self._user_of(account)
        return SignedIn(await self._sessions.start(account), user)

    async def refresh(self, token: str) -> SignedIn:
        """A renewed token for the session of `token`."""
        issued = await self._sessions.refresh(token)
        account = await self._accounts.get(issued.session.account_id)
        if account is None:
            raise Unauthorized()
        return SignedIn(issued, await self._user_of(account))

    async def logout(self, token: str | None) -> None:
        """End the session of `token` everywhere (a no-op for anything else)."""
        if token and await self._sessions.end(token):
            log.info("session_ended")

    async def verify_email(self, token: str) -> Account:
        """Mark the address of the token's account verified (and give the held-back signup grant);
        Gone when the token is not usable."""
        account = await self._consume(token, "verify_email")
        await self._confirmed(account)
        log.info("email_verified", account_id=account.id)
        return await self._accounts.get(account.id) or account

    async def _confirmed(self, account: Account) -> None:
        """The mailbox answered: note it, and welcome the user if this call is the one that did."""
        newly = await self._accounts.mark_verified(account.id, at=utcnow())
        if not (newly and self._require_verified):
            return
        user = await self._users.get_by_clerk_id(account.subject)
        if user is None:  # (the register call died before making it) made now, welcomed with it
            await self._user_of(replace(account, email_verified_at=utcnow()))
        else:
            await self._users.welcome(user)

    async def forgot_password(self, email: str) -> None:
        """Mail a reset link if the account exists; same answer and timing either way."""
        try:
            email = normalise_email(email)
        except ValidationFailed:
            return
        account = await self._accounts.get_by_email(email)
        if account is not None and await self._throttle.allow_mail(email):
            self._spawn(self._send_token(account, "password_reset"))

    async def reset_password(self, token: str, password: str) -> SignedIn:
        """Set a new password with a single-use reset token; every other session ends."""
        await asyncio.to_thread(self._policy.check, password)  # a weak password does not spend the token
        account = await self._consume(token, "password_reset")
        await asyncio.to_thread(self._policy.check, password, email=account.email)
        now = utcnow()
        await self._accounts.set_password(account.id, await self._hasher.hash(password), at=now)
        await self._confirmed(account)  # the mailbox answered
        await self._tokens.discard_all(account.id, purpose="password_reset")
        ended = await self._sessions.end_all(account.id)
        log.info("password_reset", account_id=account.id, sessions_ended=ended)
        return SignedIn(await self._sessions.start(account), await self._user_of(account))

    async def check_password(self, subject: str, password: str | None) -> None:
        """Re-authentication before an irreversible step: the password of the account behind `subject`
        (a user's `clerk_id`, `local:acc_…`); Unauthorized (the sign-in message) when it is wrong."""
        account = await self._accounts.get(subject.removeprefix(SUBJECT_PREFIX)) \
            if subject.startswith(SUBJECT_PREFIX) else None
        stored = account.password_hash if account is not None else await self._dummy()
        if not password or not await self._hasher.verify(stored, password) or account is None:
            raise Unauthorized("The password is not right.")

    async def close(self, subject: str) -> int:
        """End every session of the account behind `subject` (at once, in every process) and remove the
        account, so its email can sign up anew as a new user; the number of sessions ended."""
        if not subject.startswith(SUBJECT_PREFIX):
            return 0
        account_id = subject.removeprefix(SUBJECT_PREFIX)
        ended = await self._sessions.end_all(account_id)
        await self._accounts.delete(account_id)
        log.info("account_closed", account_id=account_id, sessions_ended=ended)
        return ended

    def owns(self, subject: str) -> bool:
        """True when `subject` is one of Muse's own accounts (not a Clerk user)."""
        return subject.startswith(SUBJECT_PREFIX)

    async def aclose(self) -> None:
        """Wait (briefly) for mail still being sent."""
        if self._background:
            await asyncio.wait(self._background, timeout=5)

    async def _user_of(self, account: Account, *, name: str | None = None) -> User:
        welcome = not self._require_verified or account.email_verified_at is not None
        user = await self._users.ensure_clerk_user(account.subject, email=account.email, name=name,
                                                   welcome=welcome)
        if user.disabled:
            raise AccountDisabled()
        return user

    async def _consume(self, token: str, purpose: TokenPurpose) -> Account:
        account_id = await self._tokens.consume(_digest(token), purpose=purpose, now_ms=now_ms())
        account = await self._accounts.get(account_id) if account_id else None
        if account is None:
            raise Gone(BAD_TOKEN)
        return account

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    async def _send_token(self, account: Account, purpose: TokenPurpose) -> None:
        token = secrets.token_urlsafe(32)
        ttl = VERIFY_TTL_S if purpose == "verify_email" else RESET_TTL_S
        await self._tokens.create(token_hash=_digest(token), purpose=purpose, account_id=account.id,
                                  expires_at_ms=now_ms() + ttl * 1000)
        if purpose == "verify_email":
            message = EmailMessage(account.email, "Confirm your email address", (
                "Welcome to Muse. Confirm your email address with this link:\n\n"
                f"{self._base_url}/verify-email?token={token}\n\n"
                f"or send the token {token} to POST /api/v1/auth/verify-email.\n"))
        else:
            message = EmailMessage(account.email, "Reset your Muse password", (
                "Someone asked to reset the password of your Muse account. If it was you, use this "
                f"link within an hour:\n\n{self._base_url}/reset-password?token={token}\n\n"
                f"or send the token {token} with a new password to POST /api/v1/auth/password/reset.\n"
                "If it was not you, ignore this message; your password stays as it is.\n"))
        try:
            await self._mailer.send(message)
        except Exception as exc:  # the account stays usable; the user can ask again
            log.warning("mail_failed", purpose=purpose, account_id=account.id, error=type(exc).__name__)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
