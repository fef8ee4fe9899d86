"""PayPal OAuth2 client-credentials token, cached per process until shortly before it expires.

One cache serves both the SDK (through its `o_auth_token_provider` hook) and our
httpx calls, so a process holds a single token however it talks to PayPal.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, cast

import httpx
from apimatic_core.utilities.auth_helper import AuthHelper
from paypalserversdk.models.o_auth_token import OAuthToken

from services.platform.errors import UpstreamError, UpstreamRetryable, UpstreamTimeout

# Refresh the token this long before PayPal says it expires.
_TOKEN_MARGIN_S = 60.0


class PayPalTokenCache:
    """One OAuth2 client-credentials token per process, shared by the SDK and httpx."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, *, timeout: float) -> None:
        self._url = f"{base_url}/v1/oauth2/token"
        self._auth = (client_id, client_secret)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0  # time.monotonic()
        self._ttl_left = 0.0
        self.fetches = 0

    def _valid(self) -> bool:
        return self._token is not None and time.monotonic() < self._expires_at

    def get(self) -> str:
        """The cached token, fetching a new one when missing or about to expire (blocking)."""
        if self._valid():
            return cast(str, self._token)
        with self._lock:
            if self._valid():
                return self._token  # type: ignore[return-value]
            try:
                response = httpx.post(
                    self._url, auth=self._auth, data={"grant_type": "client_credentials"},
                    headers={"Accept": "application/json"}, timeout=self._timeout)
            except httpx.TimeoutException as exc:
                raise UpstreamTimeout("PayPal did not answer the token request in time.") from exc
            except httpx.HTTPError as exc:
                raise UpstreamRetryable("PayPal could not be reached.") from exc
            if response.status_code >= 500:
                raise UpstreamRetryable("PayPal could not issue an access token; retry later.")
            if response.status_code != 200:
                raise UpstreamError("PayPal refused the client credentials.")
            body = response.json()
            expires_in = float(body.get("expires_in") or 32400)
            self._token = body["access_token"]
            self._ttl_left = expires_in
            self._expires_at = time.monotonic() + max(expires_in - _TOKEN_MARGIN_S, expires_in / 2)
            self.fetches += 1
            return self._token  # type: ignore[return-value]

    async def aget(self) -> str:
        """The token from async code (the network fetch runs in a thread)."""
        if self._valid():
            return self._token  # type: ignore[return-value]
        return await asyncio.to_thread(self.get)

    def invalidate(self) -> None:
        """Forget the token (PayPal answered 401 with it)."""
        with self._lock:
            self._token, self._expires_at = None, 0.0

    def sdk_token(self, _last: Any = None, _manager: Any = None) -> OAuthToken:
        """`o_auth_token_provider` for the SDK: hands it our cached token."""
        token = self.get()
        # The SDK checks expiry in whole seconds; let it hold the token for at most
        # a second or two so that this cache stays the one deciding about refreshes.
        remaining = 1 if self._expires_at - time.monotonic() > 1 else 0
        now = AuthHelper.get_current_utc_timestamp()
        return OAuthToken(access_token=token, token_type="Bearer", expires_in=remaining,
                          expiry=now + remaining)
