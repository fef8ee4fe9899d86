"""Development sign-in and the web client's configuration (contract §11)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from services.auth_keys import mint_token
from services.errors import NotFound

DEV_TOKEN_TTL_S = 24 * 3600


class DevTokenIn(BaseModel):
    user: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:@-]+$")
    role: Literal["USER", "SUBSCRIBER", "ADMIN"] | None = None
    email: str | None = Field(default=None, max_length=254)


class DevTokenOut(BaseModel):
    token: str


class AuthConfigOut(BaseModel):
    provider: Literal["clerk", "local", "dev", "none"]
    clerk_publishable_key: str | None = None


class ClientConfigOut(BaseModel):
    app_env: str
    auth: AuthConfigOut
    max_upload_mb: float


class DevController:
    """Mints development tokens (only when the app verifies with its own development key)."""

    def __init__(self, private_pem: str | None, *, azp: str | None, client_config: dict[str, Any]) -> None:
        self._private_pem, self._azp, self._client_config = private_pem, azp, client_config

    def token(self, body: DevTokenIn) -> dict[str, str]:
        """A session token for `user` with `role`; 404 outside development."""
        if self._private_pem is None:
            raise NotFound()
        return {"token": mint_token(self._private_pem, body.user, ttl_s=DEV_TOKEN_TTL_S, azp=self._azp,
                                    email=body.email, muse_role=body.role)}

    def client_config(self) -> dict[str, Any]:
        """How a client signs in here, and upload limits."""
        return self._client_config
