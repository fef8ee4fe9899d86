"""Development sign-in and the web client's configuration (contract §11)."""

from __future__ import annotations

from typing import Any

from controllers.schemas.dev import DevTokenIn
from services.identity.ports.identity import DevTokens
from services.platform.errors import NotFound

DEV_TOKEN_TTL_S = 24 * 3600


class DevController:
    """Mints development tokens (only when the app verifies with its own development key)."""

    def __init__(self, tokens: DevTokens | None, *, client_config: dict[str, Any]) -> None:
        self._tokens, self._client_config = tokens, client_config  # tokens: None outside development

    def token(self, body: DevTokenIn) -> dict[str, str]:
        """A session token for `user` with `role`; 404 outside development."""
        if self._tokens is None:
            raise NotFound()
        return {"token": self._tokens.mint(body.user, ttl_s=DEV_TOKEN_TTL_S, email=body.email,
                                           muse_role=body.role)}

    def client_config(self) -> dict[str, Any]:
        """How a client signs in here, and upload limits."""
        return self._client_config
