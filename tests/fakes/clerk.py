"""A wire fake of Clerk's Backend API: `GET /v1/jwks`, `GET /v1/users/{id}` and `DELETE /v1/users/{id}`.

Serves the given public keys as a JWKS and the given users (the full object the
SDK validates), checks `Authorization: Bearer <secret>`, counts calls and can fail
on demand (`fail_next(status)`).
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from tests.fakes.http_server import Answer, FakeHTTPServer


def jwk_of(public_pem: str, kid: str) -> dict:
    """The JWK of an RSA public key, as Clerk publishes it."""
    key = serialization.load_pem_public_key(public_pem.encode())
    jwk = json.loads(RSAAlgorithm.to_jwk(key))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def clerk_user(clerk_id: str, *, email: str | None = None, first_name: str | None = None,
               last_name: str | None = None, image_url: str | None = None) -> dict:
    """A Backend API user object with every key the SDK requires."""
    emails = [{"id": "idn_1", "object": "email_address", "email_address": email, "reserved": False,
               "verification": {"object": "verification_otp", "status": "verified", "strategy": "email_code",
                                "attempts": 1, "expire_at": 1},
               "linked_to": [], "created_at": 1, "updated_at": 1}] if email else []
    return {
        "id": clerk_id, "object": "user", "external_id": None,
        "primary_email_address_id": "idn_1" if email else None, "primary_phone_number_id": None,
        "primary_web3_wallet_id": None, "username": None, "first_name": first_name, "last_name": last_name,
        "has_image": bool(image_url), "image_url": image_url, "public_metadata": {},
        "email_addresses": emails,
        "phone_numbers": [], "web3_wallets": [], "passkeys": [], "password_enabled": True,
        "two_factor_enabled": False, "totp_enabled": False, "backup_code_enabled": False,
        "mfa_enabled_at": None, "mfa_disabled_at": None, "external_accounts": [], "saml_accounts": [],
        "enterprise_accounts": [], "last_sign_in_at": None, "banned": False, "locked": False,
        "lockout_expires_in_seconds": None, "verification_attempts_remaining": None,
        "updated_at": 1700000000000, "created_at": 1700000000000, "delete_self_enabled": True,
        "create_organization_enabled": True, "last_active_at": None, "legal_accepted_at": None,
    }


class FakeClerkApi(FakeHTTPServer):
    """Run with `with FakeClerkApi({"ins_x": PEM}, secret="sk_test_x") as fake: fake.url`."""

    def __init__(self, keys: dict[str, str], *, secret: str = "sk_test_x", users: list[dict] = ()) -> None:
        super().__init__()
        self.secret = secret
        self.users = {u["id"]: u for u in users}
        self.paths: list[str] = []
        self.jwks = {"keys": [jwk_of(pem, kid) for kid, pem in keys.items()]}
        self.calls = 0
        self._failures: list[int] = []

    def fail_next(self, status: int = 500) -> None:
        """Answer the next request with `status`."""
        self._failures.append(status)

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        if method not in ("GET", "DELETE") or (method == "DELETE" and not path.startswith("/v1/users/")):
            return self.json(501, {"errors": [{"code": "unsupported_method"}]})
        self.calls += 1
        self.paths.append(path if method == "GET" else f"DELETE {path}")
        if self._failures:
            return self.json(self._failures.pop(0), {"errors": [{"code": "server_error"}]})
        if headers.get("Authorization") != f"Bearer {self.secret}":
            return self.json(401, {"errors": [{"code": "authentication_invalid"}]})
        if path == "/v1/jwks":
            return self.json(200, self.jwks)
        user = self.users.get(path.removeprefix("/v1/users/"))
        if path.startswith("/v1/users/") and user is not None and method == "DELETE":
            del self.users[user["id"]]  # as Clerk: the user is gone (DeletedObject)
            return self.json(200, {"id": user["id"], "object": "user", "deleted": True})
        if path.startswith("/v1/users/") and user is not None:
            return self.json(200, user)
        return self.json(404, {"errors": [{"message": "not found", "long_message": "not found",
                                           "code": "resource_not_found"}], "clerk_trace_id": "t"})
