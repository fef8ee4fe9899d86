"""API key endpoints (contract §7)."""

from __future__ import annotations

from typing import Any

from controllers.schemas.api_keys import CreateApiKeyIn
from services.identity.api_keys import ApiKey, ApiKeyService
from services.platform.clock import isoformat
from services.platform.principal import Principal


def _out(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id, "name": key.name, "prefix": key.prefix,
        "created_at": isoformat(key.created_at), "last_used_at": isoformat(key.last_used_at),
    }


class ApiKeysController:
    """Create, list and revoke the caller's API keys."""

    def __init__(self, keys: ApiKeyService) -> None:
        self._keys = keys

    async def create(self, principal: Principal, data: CreateApiKeyIn) -> tuple[dict[str, Any], int]:
        """A new key; the secret appears only in this response."""
        key, secret = await self._keys.create(principal.user_id or "", name=data.name)
        return {**_out(key), "key": secret}, 201

    async def list(self, principal: Principal) -> dict[str, Any]:
        """The caller's active keys (no secrets)."""
        keys = await self._keys.list(principal.user_id or "")
        return {"items": [_out(k) for k in keys], "next_cursor": None}

    async def revoke(self, principal: Principal, key_id: str) -> tuple[str, int]:
        """Revoke a key of the caller's."""
        await self._keys.revoke(principal.user_id or "", key_id)
        return "", 204
