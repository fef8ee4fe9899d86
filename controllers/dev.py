"""Development sign-in and the web client's configuration (contract §11)."""

from __future__ import annotations

from typing import Any

from controllers.schemas.dev import DevTokenIn
from services.identity.auth_keys import mint_token
from services.platform.errors import NotFound

DEV_TOKEN_TTL_S = 24 * 3600


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
