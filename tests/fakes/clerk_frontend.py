"""A wire fake of Clerk's Frontend API (FAPI): what @clerk/clerk-js calls from the browser.

clerk-js reads its Frontend API host from the publishable key (`pk_test_` + base64("<host>$")) and
always speaks https to it, so this fake serves TLS on 127.0.0.1 with a self-signed certificate
(the browser context is told to accept it). It implements a development instance with email +
password sign-in, just enough of the wire for clerk-js 6 and @clerk/ui 1 to load, mount
<SignIn/>, sign a person in, mint session tokens and sign out:

    POST /v1/dev_browser                         the development browser id
    GET  /v1/environment                         instance settings (email + password)
    GET  /v1/client                              the browser's client (sessions, sign-in)
    POST /v1/client/sign_ins                     identifier → needs_first_factor (password)
    POST /v1/client/sign_ins/{id}/attempt_first_factor   password → complete, a session
    POST /v1/client/sessions/{id}/touch          set active
    POST /v1/client/sessions/{id}/tokens         a session JWT (RS256, the key Muse verifies with)
    DELETE /v1/client, /v1/client/sessions[/{id}]   sign out (also POST with _method=DELETE)

Session tokens are signed with `private_pem`; Muse gets the matching public key as
CLERK_JWT_KEY. `users` maps email → (password, clerk user id). `calls` records (method, path).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.fakes.http_server import Answer, FakeHTTPServer

TOKEN_TTL_S = 60
FIRST_TOKEN_TTL_S = 1  # the token inside a new session runs out at once: clerk-js must ask for a new one


def rsa_key_pair() -> tuple[str, str]:
    """A fresh RSA key pair as (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a throwaway certificate for 127.0.0.1."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


def _attribute(enabled: bool, *, first_factors: list[str] = (), required: bool = False) -> dict[str, Any]:
    return {"enabled": enabled, "required": required, "used_for_first_factor": bool(first_factors),
            "first_factors": list(first_factors), "used_for_second_factor": False, "second_factors": [],
            "verifications": ["email_code"] if first_factors == ["email_code"] else [],
            "verify_at_sign_up": False}


def environment() -> dict[str, Any]:
    """A development instance whose people sign in with email address + password."""
    attributes = {name: _attribute(False) for name in (
        "phone_number", "username", "web3_wallet", "first_name", "last_name", "authenticator_app",
        "backup_code", "passkey")}
    attributes["email_address"] = _attribute(True, first_factors=["email_code"], required=True)
    attributes["password"] = _attribute(True, required=True)
    urls = {key: f"https://accounts.example.test/{key}" for key in (
        "home_url", "sign_in_url", "sign_up_url", "user_profile_url", "after_sign_in_url",
        "after_sign_up_url",
        "after_sign_out_one_url", "after_sign_out_all_url", "after_switch_session_url",
        "organization_profile_url", "create_organization_url", "after_leave_organization_url",
        "after_create_organization_url")}
    return {
        "object": "environment", "id": "env_1",
        "auth_config": {"object": "auth_config", "id": "aac_1", "single_session_mode": True,
                        "claimed_at": None, "reverification": False},
        "display_config": {
            "object": "display_config", "id": "display_config_1", "instance_environment_type": "production",
            "application_name": "Muse", "theme": {"buttons": {}, "general": {}, "accounts": {}},
            "preferred_sign_in_strategy": "password", "logo_image_url": "", "favicon_image_url": "",
            "support_email": None, "branded": False, "experimental_force_oauth_first": False,
            "clerk_js_version": "6", "captcha_public_key": None, "captcha_widget_type": None,
            "captcha_provider": None, "captcha_public_key_invisible": None, "captcha_oauth_bypass": [],
            "captcha_heartbeat": False, "google_one_tap_client_id": None, "show_devmode_warning": False,
            "terms_url": None, "privacy_policy_url": None, "waitlist_url": "", **urls},
        "user_settings": {
            "attributes": attributes, "social": {}, "enterprise_sso": {"enabled": False},
            "sign_in": {"second_factor": {"required": False}},
            "sign_up": {"captcha_enabled": False, "custom_action_required": False, "progressive": True,
                        "mode": "public", "legal_consent_enabled": False},
            "restrictions": {"allowlist": {"enabled": False}, "blocklist": {"enabled": False},
                             "block_email_subaddresses": {"enabled": False},
                             "block_disposable_email_domains": {"enabled": False},
                             "ignore_dots_for_gmail_addresses": {"enabled": False}},
            "password_settings": {"disable_hibp": True, "min_length": 8, "max_length": 72,
                                  "require_special_char": False, "require_numbers": False,
                                  "require_uppercase": False, "require_lowercase": False,
                                  "show_zxcvbn": False, "min_zxcvbn_strength": 0,
                                  "enforce_hibp_on_sign_in": False, "allowed_special_characters": ""},
            "passkey_settings": {"allow_autofill": False, "show_sign_in_button": False},
            "username_settings": {"min_length": 4, "max_length": 64},
            "actions": {"delete_self": False, "create_organization": False},
        },
        "organization_settings": {"enabled": False, "max_allowed_memberships": 0, "actions": {},
                                  "domains": {"enabled": False, "enrollment_modes": [],
                                              "default_role": None}},
        "commerce_settings": {"billing": {"enabled": False, "stripe_publishable_key": "",
                                          "has_paid_user_plans": False, "has_paid_org_plans": False}},
        "maintenance_mode": False,
    }


class FakeClerkFrontend(FakeHTTPServer):
    """Clerk's Frontend API for one development instance, over TLS on 127.0.0.1."""

    def __init__(self, private_pem: str, users: dict[str, tuple[str, str]]) -> None:
        super().__init__()
        self._tmp = tempfile.TemporaryDirectory()
        context = self_signed_context(Path(self._tmp.name))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self.url = f"https://{self.host}"
        self.publishable_key = "pk_live_" + base64.b64encode(f"{self.host}$".encode()).decode()
        self.private_pem, self.users = private_pem, users
        self.calls: list[tuple[str, str]] = []
        self.sign_in: dict[str, Any] | None = None
        self.session: dict[str, Any] | None = None  # the signed-in user's session (one browser)
        self._sign_in_lock = threading.Lock()

    def stop(self) -> None:
        super().stop()
        self._tmp.cleanup()

    # --- wire -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        url = urlsplit(path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()} if body else {}
        method = (query.get("_method") or form.get("_method") or method).upper()
        origin = headers.get("Origin") or "*"
        cors = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
                "Access-Control-Allow-Methods": "GET, POST, PATCH, PUT, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": headers.get("Access-Control-Request-Headers") or "*",
                "Access-Control-Expose-Headers": "x-country", "Vary": "Origin"}
        if method == "OPTIONS":
            return 204, cors, b""
        with self.lock:
            self.calls.append((method, url.path))
        status, payload = self._route(method, url.path, form)
        return status, {**cors, "Content-Type": "application/json"}, json.dumps(payload).encode()

    def _route(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        parts = path.strip("/").split("/")
        if path == "/v1/dev_browser" and method == "POST":
            return 200, {"id": f"dvb_{uuid.uuid4().hex}"}
        if path == "/v1/environment":
            return 200, environment()
        if path == "/v1/client" and method == "GET":
            return 200, {"response": self._client(), "client": None}
        if (path, method) == ("/v1/client", "DELETE") or (path == "/v1/client/sessions" and method != "GET"):
            self.session = self.sign_in = None
            return 200, {"response": self._client(), "client": self._client()}
        if path == "/v1/client/sign_ins" and method == "POST":
            return self._start_sign_in(form)
        if parts[:3] == ["v1", "client", "sign_ins"] and parts[4:] == ["attempt_first_factor"]:
            return self._attempt(form)
        if parts[:3] == ["v1", "client", "sessions"] and len(parts) >= 4:
            return self._session_call(method, parts[3], parts[4] if len(parts) > 4 else "")
        return 404, {"errors": [{"code": "resource_not_found", "message": "not found",
                                 "long_message": f"{method} {path} is not in the fake"}]}

    # --- resources ----------------------------------------------------------------------------

    def _client(self) -> dict[str, Any]:
        now = int(time.time() * 1000)
        return {"object": "client", "id": "client_1", "sessions": [self.session] if self.session else [],
                "sign_in": self.sign_in, "sign_up": None,
                "last_active_session_id": self.session["id"] if self.session else None,
                "cookie_expires_at": None, "captcha_bypass": False, "created_at": now, "updated_at": now}

    def _start_sign_in(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        email = form.get("identifier", "")
        if email not in self.users:
            return 422, {"errors": [{"code": "form_identifier_not_found",
                                     "message": "Couldn't find your account.",
                                     "long_message": "Couldn't find your account.",
                                     "meta": {"param_name": "identifier"}}],
                         "client": self._client()}
        self.sign_in = {
            "object": "sign_in_attempt", "id": f"sia_{uuid.uuid4().hex[:12]}", "status": "needs_first_factor",
            "identifier": email, "supported_identifiers": ["email_address"],
            "supported_first_factors": [{"strategy": "password"}], "supported_second_factors": None,
            "first_factor_verification": None, "second_factor_verification": None,
            "user_data": {"first_name": None, "last_name": None, "image_url": "", "has_image": False},
            "created_session_id": None, "abandon_at": int(time.time() * 1000) + 600_000}
        return 200, {"response": self.sign_in, "client": self._client()}

    def _attempt(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        sign_in = self.sign_in or {}
        password, user_id = self.users.get(sign_in.get("identifier", ""), ("", ""))
        if form.get("strategy") != "password" or form.get("password") != password:
            return 422, {"errors": [{"code": "form_password_incorrect", "message": "Password is incorrect.",
                                     "long_message": ("Password is incorrect. Try again, "
                                                      "or use another method."),
                                     "meta": {"param_name": "password"}}], "client": self._client()}
        session_id = f"sess_{uuid.uuid4().hex[:12]}"
        self.session = self._session(session_id, user_id, sign_in["identifier"])
        self.sign_in = {**sign_in, "status": "complete", "created_session_id": session_id,
                        "first_factor_verification": {"object": "verification", "status": "verified",
                                                      "strategy": "password", "attempts": 1,
                                                      "expire_at": None}}
        answer = {"response": self.sign_in, "client": self._client()}
        self.sign_in = None
        return 200, answer

    def _session(self, session_id: str, user_id: str, email: str) -> dict[str, Any]:
        now = int(time.time() * 1000)
        email_id = "idn_1"
        user = {
            "object": "user", "id": user_id, "external_id": None, "primary_email_address_id": email_id,
            "primary_phone_number_id": None, "primary_web3_wallet_id": None, "username": None,
            "first_name": None, "last_name": None, "image_url": "", "has_image": False,
            "email_addresses": [{"object": "email_address", "id": email_id, "email_address": email,
                                 "reserved": False, "linked_to": [],
                                 "verification": {"object": "verification", "status": "verified",
                                                  "strategy": "email_code", "attempts": 1,
                                                  "expire_at": None}}],
            "phone_numbers": [], "web3_wallets": [], "external_accounts": [], "enterprise_accounts": [],
            "passkeys": [], "saml_accounts": [], "organization_memberships": [], "public_metadata": {},
            "unsafe_metadata": {}, "password_enabled": True, "two_factor_enabled": False,
            "totp_enabled": False, "backup_code_enabled": False, "create_organization_enabled": False,
            "delete_self_enabled": False, "last_sign_in_at": now, "created_at": now, "updated_at": now}
        return {"object": "session", "id": session_id, "status": "active", "expire_at": now + 86_400_000,
                "abandon_at": now + 86_400_000, "last_active_at": now, "last_active_organization_id": None,
                "actor": None, "user": user, "public_user_data": {"identifier": email},
                "factor_verification_age": [0, -1], "created_at": now, "updated_at": now,
                "last_active_token": {"object": "token",
                                      "jwt": self.token(user_id, session_id, ttl_s=FIRST_TOKEN_TTL_S)}}

    def token(self, user_id: str, session_id: str, *, ttl_s: int = TOKEN_TTL_S) -> str:
        """A Clerk session token (the claims Muse reads), valid for a minute."""
        now = int(time.time())
        claims = {"sub": user_id, "sid": session_id, "iss": self.url, "iat": now, "nbf": now - 5,
                  "exp": now + ttl_s, "v": 2, "fva": [0, -1]}
        return jwt.encode(claims, self.private_pem, algorithm="RS256", headers={"kid": "ins_fake"})

    def _session_call(self, method: str, session_id: str, action: str) -> tuple[int, dict[str, Any] | None]:
        session = self.session if self.session and self.session["id"] == session_id else None
        if session is None:
            return 404, {"errors": [{"code": "resource_not_found", "message": "no such session",
                                     "long_message": "The session has ended."}], "client": self._client()}
        if action == "tokens" and method == "POST":
            return 200, {"object": "token", "jwt": self.token(session["user"]["id"], session_id)}
        if action == "touch" and method == "POST":
            return 200, {"response": session, "client": self._client()}
        if method == "DELETE" or action in ("end", "remove"):
            self.session = None
            return 200, {"response": {**session, "status": "ended"}, "client": self._client()}
        return 404, {"errors": [{"code": "resource_not_found", "message": "not found",
                                 "long_message": f"{method} session {action} is not in the fake"}]}
