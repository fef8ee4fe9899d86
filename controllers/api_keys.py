"""API key endpoints (contract §7, §19)."""

from __future__ import annotations

from typing import Any

from controllers.schemas.api_keys import ApiKeyLimitsIn, CreateApiKeyIn, PatchApiKeyIn
from services.identity.api_keys import LIMIT_FIELDS, ApiKey, ApiKeyService, KeyChanges, KeyUsage
from services.platform.clock import isoformat
from services.platform.principal import Principal


def _out(key: ApiKey, *, spent_today: int = 0, spent_this_month: int = 0) -> dict[str, Any]:
    return {
        "id": key.id, "name": key.name, "prefix": key.prefix,
        "created_at": isoformat(key.created_at), "last_used_at": isoformat(key.last_used_at),
        "scopes": sorted(key.scopes), "expires_at": isoformat(key.expires_at),
        "daily_credit_cap": key.daily_credit_cap, "monthly_credit_cap": key.monthly_credit_cap,
        "models": list(key.models) if key.models is not None else None,
        "allowed_ips": list(key.allowed_ips) if key.allowed_ips is not None else None,
        "spent_today": spent_today, "spent_this_month": spent_this_month,
    }


def _usage_out(usage: KeyUsage) -> dict[str, Any]:
    return _out(usage.key, spent_today=usage.spent_today, spent_this_month=usage.spent_this_month)


def _changes(data: ApiKeyLimitsIn) -> KeyChanges:
    """The limit fields the client sent (a field sent as null clears that limit)."""
    return KeyChanges({f: getattr(data, f) for f in LIMIT_FIELDS if f in data.model_fields_set})


class ApiKeysController:
    """Create, list, change and revoke the caller's API keys."""

    def __init__(self, keys: ApiKeyService) -> None:
        self._keys = keys

    async def create(self, principal: Principal, data: CreateApiKeyIn) -> tuple[dict[str, Any], int]:
        """A new key; the secret appears only in this response."""
        key, secret = await self._keys.create(principal.require_user_id(), name=data.name,
                                              limits=_changes(data))
        return {**_out(key), "key": secret}, 201

    async def list(self, principal: Principal) -> dict[str, Any]:
        """The caller's active keys (no secrets), with last use and spend."""
        keys = await self._keys.list_with_spend(principal.require_user_id())
        return {"items": [_usage_out(k) for k in keys], "next_cursor": None}

    async def update(self, principal: Principal, key_id: str, data: PatchApiKeyIn) -> dict[str, Any]:
        """Change a key's name or limits; effective on its next request in every process."""
        changes = _changes(data)
        if "name" in data.model_fields_set and data.name is not None:
            changes = KeyChanges({**changes.values, "name": data.name})
        return _usage_out(await self._keys.update(principal.require_user_id(), key_id, changes))

    async def revoke(self, principal: Principal, key_id: str) -> tuple[str, int]:
        """Revoke a key of the caller's."""
        await self._keys.revoke(principal.require_user_id(), key_id)
        return "", 204
