"""Muse API keys (contract §7, §19): `mk_live_` secrets, stored only as SHA-256 hashes, with limits.

A key may carry scopes, an expiry, daily and monthly spend caps (credits, UTC day and month),
allowed models and allowed client networks (CIDRs). Expiry and networks are checked here when
the key authenticates; scopes, models and caps through `services.platform.key_limits`. A change
(PATCH) or a revocation invalidates the cached record, so every process applies it at once.
"""

from __future__ import annotations

import builtins
import hashlib
import ipaddress
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from services.credits.ports import KeySpend

# These live with their port (in the domain's ports); imported from here too.
from services.identity.ports.api_keys import ApiKey as ApiKey
from services.identity.ports.api_keys import ApiKeyRepository as ApiKeyRepository
from services.identity.ports.api_keys import KeyChanges as KeyChanges
from services.identity.ports.api_keys import KeyUsage as KeyUsage
from services.platform.clock import utcnow
from services.platform.errors import ApiKeyExpired, ApiKeyIp, NotFound, ValidationFailed
from services.platform.key_limits import SCOPES

API_KEY_MARKER = "mk_"
LIVE_PREFIX = "mk_live_"
PREFIX_LEN = len(LIVE_PREFIX) + 6
LAST_USED_EVERY_S = 60.0




LIMIT_FIELDS = ("scopes", "expires_at", "daily_credit_cap", "monthly_credit_cap", "models", "allowed_ips")








def hash_secret(secret: str) -> str:
    """SHA-256 hex digest of a key secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _invalid(loc: str, msg: str) -> ValidationFailed:
    return ValidationFailed(f"{loc}: {msg}", errors=[{"loc": ["body", loc], "msg": msg}])


class ApiKeyService:
    """Create, list, change, revoke and authenticate API keys."""

    def __init__(self, keys: ApiKeyRepository, *, spend: KeySpend | None = None,
                 known_models: Callable[[], Iterable[str]] | None = None) -> None:
        self._keys = keys
        self._spend = spend
        self._known_models = known_models
        self._touched: dict[str, float] = {}

    def _checked(self, changes: KeyChanges) -> dict[str, Any]:
        """The limits in `changes`, normalised; 422 naming the field when one is not acceptable."""
        out = dict(changes.values)
        if "scopes" in out:
            scopes = out["scopes"]
            if scopes is None:
                out["scopes"] = list(SCOPES)
            else:
                unknown = sorted(set(scopes) - set(SCOPES))
                if unknown:
                    raise _invalid("scopes", f"unknown scopes {unknown}; use {list(SCOPES)}")
                if not scopes:
                    raise _invalid("scopes", "at least one scope")
                out["scopes"] = sorted(set(scopes))
        if out.get("expires_at") is not None and out["expires_at"] <= utcnow():
            raise _invalid("expires_at", "must be in the future")
        for cap in ("daily_credit_cap", "monthly_credit_cap"):
            if out.get(cap) is not None and out[cap] < 0:
                raise _invalid(cap, "must be 0 or more")
        if out.get("models") is not None:
            known = set(self._known_models()) if self._known_models else None
            unknown = sorted(set(out["models"]) - known) if known is not None else []
            if unknown:
                raise _invalid("models", f"unknown models {unknown}; known: {sorted(known or [])}")
            out["models"] = sorted(set(out["models"]))
        if out.get("allowed_ips") is not None:
            nets = []
            for value in out["allowed_ips"]:
                try:
                    nets.append(str(ipaddress.ip_network(value, strict=False)))
                except ValueError:
                    raise _invalid("allowed_ips", f"{value!r} is not an IP address or CIDR network") from None
            out["allowed_ips"] = nets
        return out

    async def create(self, user_id: str, *, name: str,
                     limits: KeyChanges | None = None) -> tuple[ApiKey, str]:
        """A new key and its secret (shown once)."""
        checked = self._checked(limits or KeyChanges())
        secret = LIVE_PREFIX + secrets.token_urlsafe(32)
        key = await self._keys.create(
            user_id=user_id, name=name, prefix=secret[:PREFIX_LEN], secret_hash=hash_secret(secret),
            limits=checked or None,
        )
        return key, secret

    async def update(self, user_id: str, key_id: str, changes: KeyChanges) -> KeyUsage:
        """Change a key's limits (every process applies them on the key's next request)."""
        key = await self._keys.update(key_id, user_id=user_id, changes=self._checked(changes))
        if key is None:
            raise NotFound("No such API key.")
        return (await self._with_spend([key]))[0]

    async def list(self, user_id: str) -> list[ApiKey]:
        """The user's active keys, newest first."""
        return await self._keys.list_for_user(user_id)

    async def list_with_spend(self, user_id: str) -> builtins.list[KeyUsage]:
        """The user's active keys with what each spent today and this month (UTC)."""
        return await self._with_spend(await self._keys.list_for_user(user_id))

    async def _with_spend(self, keys: builtins.list[ApiKey]) -> builtins.list[KeyUsage]:
        spent = await self._spend.spent([k.id for k in keys], at=utcnow()) if self._spend and keys else {}
        return [KeyUsage(k, *spent.get(k.id, (0, 0))) for k in keys]

    async def revoke(self, user_id: str, key_id: str) -> None:
        """Revoke one of the user's keys; NotFound when it is not theirs or already revoked."""
        if not await self._keys.revoke(key_id, user_id=user_id, at=utcnow()):
            raise NotFound("No such API key.")

    async def revoke_all(self, user_id: str) -> int:
        """Revoke every key of a user; how many."""
        return await self._keys.revoke_all(user_id, at=utcnow())

    async def authenticate(self, secret: str, *, ip: str | None = None) -> ApiKey | None:
        """The active key with this secret, or None; 401 `api_key_expired` past its expiry,
        403 `api_key_ip` from a client address outside its networks."""
        if not secret.startswith(LIVE_PREFIX) or len(secret) > 200:
            return None
        key = await self._keys.get_active_by_hash(hash_secret(secret))
        if key is not None:
            if key.expired(utcnow()):
                raise ApiKeyExpired(f"This API key expired at {key.expires_at:%Y-%m-%dT%H:%M:%SZ}.")
            if ip is not None and not key.allows_ip(ip):
                raise ApiKeyIp(f"This API key may not be used from {ip}.")
            now = time.monotonic()
            if now - self._touched.get(key.id, 0.0) > LAST_USED_EVERY_S:
                self._touched[key.id] = now
                await self._keys.touch(key.id, at=utcnow())
        return key
