"""API key routes (contract §7)."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import validate_request, validate_response

from app.routes.deps import container
from controllers.schemas.api_keys import (
    ApiKeyCreatedOut,
    ApiKeyListOut,
    ApiKeyOut,
    CreateApiKeyIn,
    PatchApiKeyIn,
)
from middlewares.access import require_role
from middlewares.policy import policy
from services.platform.principal import Role

bp = Blueprint("api_keys", __name__)


@bp.post("/api/v1/api-keys")
@require_role(Role.USER)
@policy()
@validate_request(CreateApiKeyIn)
@validate_response(ApiKeyCreatedOut, 201)
async def create_api_key(data: CreateApiKeyIn):
    """Create an API key; the `key` secret is shown only in this response."""
    return await container().identity.api_keys_controller.create(g.principal, data)


@bp.get("/api/v1/api-keys")
@require_role(Role.USER)
@policy()
@validate_response(ApiKeyListOut)
async def list_api_keys():
    """The caller's active API keys (no secrets), with their limits, last use and spend."""
    return await container().identity.api_keys_controller.list(g.principal)


@bp.patch("/api/v1/api-keys/<key_id>")
@require_role(Role.USER)
@policy()
@validate_request(PatchApiKeyIn)
@validate_response(ApiKeyOut)
async def update_api_key(key_id: str, data: PatchApiKeyIn):
    """Change an API key's name or limits (`null` clears a limit); effective at once in every process."""
    return await container().identity.api_keys_controller.update(g.principal, key_id, data)


@bp.delete("/api/v1/api-keys/<key_id>")
@require_role(Role.USER)
@policy()
async def revoke_api_key(key_id: str):
    """Revoke an API key; it stops working at once in every process."""
    return await container().identity.api_keys_controller.revoke(g.principal, key_id)
