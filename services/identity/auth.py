"""Authentication: turns the credentials of a request into a Principal (contract §1)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import structlog

from services.identity.api_keys import API_KEY_MARKER, ApiKeyService
from services.identity.ports.identity import ProfileSource, TokenVerifier
from services.identity.users import User, UserService
from services.identity.webhooks import clerk_profile
from services.platform.errors import AccountDisabled, Unauthorized
from services.platform.key_limits import KeyLimits
from services.platform.principal import Principal, Role

log = structlog.stdlib.get_logger("muse.auth")

RAPIDAPI_PLANS = {"BASIC": "free", "PRO": "starter", "ULTRA": "enterprise", "MEGA": "enterprise"}


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presented, as read by the auth middleware (`ip`: the client after trusted
    proxies, middlewares/client_ip.py)."""

    ip: str
    token: str | None = None
    rapidapi_secret: str | None = None
    rapidapi_user: str | None = None
    rapidapi_subscription: str | None = None

    @property
    def present(self) -> bool:
        return bool(self.token or self.rapidapi_secret)


class AuthService:
    """Resolves Clerk session JWTs, Muse API keys and RapidAPI proxy calls to principals."""

    def __init__(
        self,
        users: UserService,
        api_keys: ApiKeyService,
        verifier: TokenVerifier | None,
        *,
        rapidapi_secret: str | None = None,
        dev_claims: bool = False,
        profiles: ProfileSource | None = None,
    ) -> None:
        self._users = users
        self._profiles = profiles
        self._keys = api_keys
        self._verifier = verifier
        self._rapidapi_secret = rapidapi_secret.encode() if rapidapi_secret else None
        # Development tokens minted by `python -m app token` may carry a role claim.
        self._dev_claims = dev_claims

    async def authenticate(self, creds: Credentials) -> tuple[Principal, User | None]:
        """The principal of a request (anonymous without credentials); Unauthorized or AccountDisabled."""
        if creds.rapidapi_secret is not None and self._rapidapi_secret is not None:
            user = await self._rapidapi_user(creds)
            return _user_principal(user, kind="user", ip=creds.ip), user
        if not creds.token:
            return Principal.anonymous(creds.ip), None
        if creds.token.startswith(API_KEY_MARKER):
            return await self._api_key(creds.token, ip=creds.ip)
        return await self._session(creds.token, ip=creds.ip)

    async def _session(self, token: str, *, ip: str) -> tuple[Principal, User]:
        if self._verifier is None:
            raise Unauthorized("Session tokens are not accepted: Clerk is not configured.")
        claims = await self._verifier.verify(token)
        user = await self._users.get_by_clerk_id(claims["sub"])
        user = await self._create(claims) if user is None else await self._users.bootstrap_admin(user)
        if self._dev_claims and isinstance(claims.get("muse_role"), str):
            role = Role.parse(claims["muse_role"])
            if user.role != role:
                user = await self._users.set_role(user.id, role)
        _check_enabled(user)
        return _user_principal(user, kind="user", ip=ip), user

    async def _create(self, claims: dict[str, Any]) -> User:
        """Just-in-time creation, with the profile user.created would bring (when Clerk answers)."""
        email = claims.get("email")
        profile: dict[str, Any] = {"email": email if isinstance(email, str) else None}
        if self._profiles is not None:
            data = await self._profiles.get_user(claims["sub"])
            if data is not None:
                profile = {k: v for k, v in clerk_profile(data).items() if v is not None} or profile
        return await self._users.ensure_clerk_user(claims["sub"], **profile)

    async def _api_key(self, secret: str, *, ip: str) -> tuple[Principal, User]:
        key = await self._keys.authenticate(secret, ip=ip)
        if key is None:
            raise Unauthorized("The API key is invalid or revoked.")
        user = await self._users.get(key.user_id)
        if user is None:
            raise Unauthorized("The API key is invalid or revoked.")
        _check_enabled(user)
        return _user_principal(user, kind="api_key", api_key_id=key.id, ip=ip, limits=key.limits), user

    async def _rapidapi_user(self, creds: Credentials) -> User:
        assert self._rapidapi_secret is not None
        if not hmac.compare_digest((creds.rapidapi_secret or "").encode(), self._rapidapi_secret):
            raise Unauthorized("The RapidAPI proxy secret does not match.")
        if not creds.rapidapi_user:
            raise Unauthorized("X-RapidAPI-User is missing.")
        user = await self._users.ensure_clerk_user(f"rapidapi:{creds.rapidapi_user}")
        _check_enabled(user)
        plan = RAPIDAPI_PLANS.get((creds.rapidapi_subscription or "BASIC").upper(), "free")
        if user.plan != plan:
            role = Role.USER if plan == "free" else Role.SUBSCRIBER
            user = await self._users.set_plan(user.id, plan, role=role)
        return user


def _check_enabled(user: User) -> None:
    if user.disabled:
        raise AccountDisabled()


def _user_principal(user: User, *, kind: str, api_key_id: str | None = None,
                    ip: str | None = None, limits: KeyLimits | None = None) -> Principal:
    rate_key = f"key:{api_key_id}" if api_key_id else f"user:{user.id}"
    return Principal(
        kind=kind,  # type: ignore[arg-type]
        rate_key=rate_key,
        user_id=user.id,
        clerk_id=user.clerk_id,
        role=user.role,
        plan=user.plan,
        api_key_id=api_key_id,
        client_ip=ip,
        key_limits=limits,
    )
