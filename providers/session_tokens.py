"""RS256 signing of Muse session tokens (PyJWT); verification goes through the Clerk path."""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

KID = "muse_local"


class RsaSessionTokenSigner:
    """Signs claims with Muse's private key; reads back tokens it signed."""

    def __init__(self, private_pem: str) -> None:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        self._private = private_pem
        self.public_pem = key.public_key().public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def issue(self, claims: dict[str, Any]) -> str:
        """An RS256 JWT of `claims`."""
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": KID})

    def decode(self, token: str) -> dict[str, Any] | None:
        """The claims of a token signed with this key, expired or not; None otherwise."""
        try:
            claims = jwt.decode(token, self.public_pem, algorithms=["RS256"],
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
        except jwt.PyJWTError:
            return None
        return claims if isinstance(claims, dict) else None
