"""Muse's own accounts over HTTP (contract §17): DTOs, the session cookie, thin calls to AccountService."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.http import dump_cookie

from controllers.schemas.accounts import (
    ForgotIn,
    LoginIn,
    RegisterIn,
    ResetIn,
    TokenIn,
)
from controllers.schemas.common import user_fields
from services.identity.accounts import AccountService, SignedIn
from services.platform.clock import isoformat
from services.platform.errors import NotFound

COOKIE = "muse_session"


def session_token(headers: Mapping[str, str], cookies: Mapping[str, str]) -> str | None:
    """The caller's session token: `Authorization: Bearer …`, else the `muse_session` cookie."""
    scheme, _, value = (headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return cookies.get(COOKIE) or None


class AccountsController:
    """Register, login, logout, refresh, verify-email, password forgot/reset."""

    def __init__(
        self, accounts: AccountService | None, *, secure_cookie: bool, cookie_max_age_s: int
    ) -> None:
        self._accounts, self._secure, self._max_age = accounts, secure_cookie, cookie_max_age_s

    @property
    def _service(self) -> AccountService:
        if self._accounts is None:
            raise NotFound("Muse's own accounts are off (AUTH_PROVIDER is not `local`).")
        return self._accounts

    async def register(self, data: RegisterIn) -> tuple[dict[str, Any], int, dict[str, str]]:
        """201 with a session token and the new user; the session cookie is set."""
        signed = await self._service.register(
            data.email, data.password.get_secret_value(), name=data.name)
        return self._signed_in(signed, 201)

    async def login(self, data: LoginIn, *, ip: str) -> tuple[dict[str, Any], int, dict[str, str]]:
        """200 with a session token; 401 (one message) for a wrong email or password; 429 when throttled."""
        signed = await self._service.login(data.email, data.password.get_secret_value(), ip=ip)
        return self._signed_in(signed, 200)

    async def refresh(self, token: str | None) -> tuple[dict[str, Any], int, dict[str, str]]:
        """200 with a renewed token for the caller's session."""
        signed = await self._service.refresh(token or "")
        return self._signed_in(signed, 200)

    async def logout(self, token: str | None) -> tuple[str, int, dict[str, str]]:
        """204; the session is revoked everywhere and the cookie cleared."""
        await self._service.logout(token)
        return "", 204, {"Set-Cookie": self._cookie("", max_age=0)}

    async def verify_email(self, data: TokenIn) -> dict[str, Any]:
        """The account's address, now verified (410 for an unusable token)."""
        account = await self._service.verify_email(data.token)
        return {"email": account.email, "email_verified": account.email_verified_at is not None,
                "email_verified_at": isoformat(account.email_verified_at)}

    async def forgot_password(self, data: ForgotIn) -> tuple[dict[str, Any], int]:
        """Always 202, whether or not the account exists."""
        await self._service.forgot_password(data.email)
        return {"status": "accepted"}, 202

    async def reset_password(self, data: ResetIn) -> tuple[dict[str, Any], int, dict[str, str]]:
        """200 with a new session; every other session of the account has ended."""
        signed = await self._service.reset_password(data.token, data.password.get_secret_value())
        return self._signed_in(signed, 200)

    def _signed_in(self, signed: SignedIn, status: int) -> tuple[dict[str, Any], int, dict[str, str]]:
        body = {"access_token": signed.issued.access_token, "token_type": "bearer",
                "expires_in": signed.issued.expires_in, "user": user_fields(signed.user)}
        return body, status, {"Set-Cookie": self._cookie(signed.issued.access_token, max_age=self._max_age)}

    def _cookie(self, value: str, *, max_age: int) -> str:
        return dump_cookie(COOKIE, value, max_age=max_age, path="/", secure=self._secure,
                           httponly=True, samesite="Lax")
