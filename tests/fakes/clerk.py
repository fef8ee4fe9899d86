"""A wire fake of Clerk's Backend API: `GET /v1/jwks` and `GET /v1/users/{id}`.

Serves the given public keys as a JWKS and the given users (the full object the
SDK validates), checks `Authorization: Bearer <secret>`, counts calls and can fail
on demand (`fail_next(status)`).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm


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


class FakeClerkApi:
    """Run with `with FakeClerkApi({"ins_x": PEM}, secret="sk_test_x") as fake: fake.url`."""

    def __init__(self, keys: dict[str, str], *, secret: str = "sk_test_x", users: list[dict] = ()) -> None:
        self.secret = secret
        self.users = {u["id"]: u for u in users}
        self.paths: list[str] = []
        self.jwks = {"keys": [jwk_of(pem, kid) for kid, pem in keys.items()]}
        self.calls = 0
        self._failures: list[int] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, status: int = 500) -> None:
        """Answer the next request with `status`."""
        self._failures.append(status)

    def __enter__(self) -> FakeClerkApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                fake.calls += 1
                fake.paths.append(self.path)
                if fake._failures:
                    return self._send(fake._failures.pop(0), {"errors": [{"code": "server_error"}]})
                if self.headers.get("Authorization") != f"Bearer {fake.secret}":
                    return self._send(401, {"errors": [{"code": "authentication_invalid"}]})
                if self.path == "/v1/jwks":
                    return self._send(200, fake.jwks)
                user = fake.users.get(self.path.removeprefix("/v1/users/"))
                if self.path.startswith("/v1/users/") and user is not None:
                    return self._send(200, user)
                return self._send(404, {"errors": [{"message": "not found", "long_message": "not found",
                                                    "code": "resource_not_found"}], "clerk_trace_id": "t"})

        return Handler
