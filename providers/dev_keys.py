"""Development signing keys: a local RSA pair under `var/` and tokens shaped like Clerk's.

Used only when APP_ENV=development and no Clerk key is configured (and by tests).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEV_KID = "ins_muse_dev"
DEV_AZP = "http://localhost:3000"


def generate_key_pair() -> tuple[str, str]:
    """A new RSA-2048 (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


def ensure_dev_key_pair(var_dir: Path) -> tuple[str, str]:
    """The development key pair under `var_dir/dev-jwt/`, made on first use."""
    folder = Path(var_dir) / "dev-jwt"
    private_path, public_path = folder / "private.pem", folder / "public.pem"
    if not (private_path.exists() and public_path.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        private, public = generate_key_pair()
        tmp = private_path.with_suffix(".tmp")
        tmp.write_text(private)
        tmp.chmod(0o600)
        tmp.replace(private_path)
        public_path.write_text(public)
    return private_path.read_text(), public_path.read_text()


def mint_token(
    private_pem: str, sub: str, *, ttl_s: int = 3600, azp: str | None = DEV_AZP, **claims: Any
) -> str:
    """An RS256 session token like Clerk's (`sub`, `sid`, `iat`, `nbf`, `exp`, `azp`, `v: 2`)."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": sub, "sid": f"sess_{uuid.uuid4().hex[:16]}", "iat": now, "nbf": now - 1,
        "exp": now + ttl_s, "v": 2, "iss": "https://muse.dev.local",
    }
    if azp is not None:
        payload["azp"] = azp
    payload.update({k: v for k, v in claims.items()})
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, private_pem, algorithm="RS256", headers={"kid": DEV_KID})


class DevTokenMinter:
    """`DevTokens` over a private key: tokens for the development sign-in (`POST /api/v1/dev/token`)."""

    def __init__(self, private_pem: str, *, azp: str | None) -> None:
        self._private_pem, self._azp = private_pem, azp

    def mint(self, subject: str, *, ttl_s: int, email: str | None, muse_role: str | None) -> str:
        return mint_token(self._private_pem, subject, ttl_s=ttl_s, azp=self._azp, email=email,
                          muse_role=muse_role)
