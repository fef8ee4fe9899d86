"""Clerk: session JWT verification (clerk-backend-api) and webhook signatures (svix)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog

from services.platform.errors import InvalidWebhook, Unauthorized, UpstreamError, UpstreamRetryable

if TYPE_CHECKING:  # the SDK (with httpx) is imported on first verification, not at start-up (issue 12)
    from clerk_backend_api.security.types import TokenVerificationErrorReason, VerifyTokenOptions

log = structlog.stdlib.get_logger("muse.clerk")

LEEWAY_MS = 5000
JWKS_TIMEOUT_S = 10.0
VERIFIED_CACHE_SIZE = 4096  # tokens whose signature was checked, kept until they expire


class ClerkTokenVerifier:
    """Verifies Clerk session JWTs: networkless with a PEM key, else through Clerk's JWKS."""

    lazy_sdk = "clerk_backend_api.security"  # loaded ahead of the first verification (app/startup.py)

    def __init__(
        self,
        *,
        jwt_key: str | None,
        secret_key: str | None = None,
        api_url: str = "https://api.clerk.com",
        authorized_parties: list[str] | None = None,
    ) -> None:
        if not (jwt_key or secret_key):
            raise ValueError("a Clerk JWT key or secret key is required")
        self._settings: dict[str, Any] = dict(
            jwt_key=jwt_key or None,
            secret_key=None if jwt_key else secret_key,
            api_url=api_url.rstrip("/"),
            authorized_parties=list(authorized_parties) if authorized_parties else None,
            clock_skew_in_ms=LEEWAY_MS,
        )
        self._options: VerifyTokenOptions | None = None
        self._verified: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid session token; Unauthorized otherwise."""
        cached = self._verified.get(token)
        if cached is not None and time.time() <= cached[1]:
            self._verified.move_to_end(token)
            return cached[0]
        claims = await self._verify(token)
        # The same token bytes always verify the same way; only time can invalidate them.
        self._verified[token] = (claims, float(claims["exp"]) + LEEWAY_MS / 1000)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    async def _verify(self, token: str) -> dict[str, Any]:
        from clerk_backend_api.security import verify_token_async
        from clerk_backend_api.security.machine import is_machine_token
        from clerk_backend_api.security.types import (
            TokenVerificationError,
            TokenVerificationErrorReason,
            VerifyTokenOptions,
        )

        if self._options is None:
            self._options = VerifyTokenOptions(**self._settings)
        self._verified.pop(token, None)
        if not token or is_machine_token(token):
            raise Unauthorized("The credential is not a session token.")
        try:
            async with asyncio.timeout(JWKS_TIMEOUT_S):  # the SDK retries JWKS fetches for minutes
                claims = await verify_token_async(token, self._options)
        except TimeoutError as exc:
            log.warning("clerk_jwks_timeout")
            raise UpstreamRetryable("Clerk could not be reached to verify the session.") from exc
        except TokenVerificationError as exc:
            if exc.reason in (TokenVerificationErrorReason.JWK_FAILED_TO_LOAD,
                              TokenVerificationErrorReason.SERVER_ERROR):
                log.warning("clerk_jwks_unavailable", reason=exc.reason.name)
                raise UpstreamRetryable("Clerk could not be reached to verify the session.") from exc
            raise Unauthorized(_reason_text(exc.reason)) from exc
        except Exception as exc:  # malformed input the SDK did not classify
            raise Unauthorized("The session token is malformed.") from exc
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise Unauthorized("The session token has no subject.")
        if not isinstance(claims.get("exp"), int | float):
            raise Unauthorized("The session token has no expiry.")
        return claims


def _reason_text(reason: TokenVerificationErrorReason) -> str:
    from clerk_backend_api.security.types import TokenVerificationErrorReason

    return {
        TokenVerificationErrorReason.TOKEN_EXPIRED: "The session token has expired.",
        TokenVerificationErrorReason.TOKEN_NOT_ACTIVE_YET: "The session token is not valid yet.",
        TokenVerificationErrorReason.TOKEN_INVALID_SIGNATURE: "The session token signature is invalid.",
        TokenVerificationErrorReason.TOKEN_INVALID_AUTHORIZED_PARTIES: "The token's azp is not allowed.",
    }.get(reason, "The session token is invalid.")


class ClerkWebhookVerifier:
    """Checks Svix signatures (±5 min timestamps) on the raw body and returns the parsed event."""

    def __init__(self, secret: str) -> None:
        from svix.webhooks import Webhook  # imported when webhooks are configured (~1 s of start-up)

        self._webhook = Webhook(secret)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """The event of a correctly signed delivery; InvalidWebhook otherwise."""
        from svix.webhooks import WebhookVerificationError

        try:
            self._webhook.verify(body, dict(headers))
        except (WebhookVerificationError, ValueError) as exc:
            raise InvalidWebhook(f"Signature check failed: {exc}") from exc
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise InvalidWebhook("The webhook body is not JSON.") from exc
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise InvalidWebhook("The webhook body is not an event.")
        return event


class ClerkUsersClient:
    """Reads user profiles from Clerk's Backend API (for just-in-time creation); never raises."""

    def __init__(
        self, *, secret_key: str, api_url: str = "https://api.clerk.com", timeout_s: float = 5.0
    ) -> None:
        from clerk_backend_api import Clerk
        from clerk_backend_api.utils import BackoffStrategy, RetryConfig

        # The SDK's default retries 5xx for up to an hour; a request cannot wait that long.
        retries = RetryConfig("backoff", BackoffStrategy(250, 1000, 2.0, int(timeout_s * 600)), True)
        self._sdk = Clerk(bearer_auth=secret_key, server_url=api_url.rstrip("/") + "/v1",
                          retry_config=retries, timeout_ms=int(timeout_s * 1000))
        self._timeout = timeout_s

    async def get_user(self, clerk_id: str) -> dict[str, Any] | None:
        """The Clerk user as a dict (webhook `data` shape), or None when unavailable."""
        try:
            async with asyncio.timeout(self._timeout + 1):
                user = await self._sdk.users.get_async(user_id=clerk_id)
        except Exception as exc:  # profile enrichment is best effort; webhooks fill it later
            log.warning("clerk_user_fetch_failed", clerk_id=clerk_id, error=type(exc).__name__)
            return None
        return user.model_dump(mode="json")

    async def delete_user(self, clerk_id: str) -> None:
        """Delete the user at Clerk (`DELETE /v1/users/{id}` through the SDK); a user Clerk does not know
        is already gone. UpstreamError when Clerk cannot be reached or refuses."""
        from clerk_backend_api import models

        try:
            async with asyncio.timeout(self._timeout + 1):
                await self._sdk.users.delete_async(user_id=clerk_id)
        except models.ClerkErrors as exc:
            if exc.raw_response.status_code == 404:
                return
            log.warning("clerk_user_delete_failed", clerk_id=clerk_id, status=exc.raw_response.status_code)
            raise UpstreamError("Clerk refused to delete the account; nothing was deleted.") from exc
        except Exception as exc:
            log.warning("clerk_user_delete_failed", clerk_id=clerk_id, error=type(exc).__name__)
            raise UpstreamError("Clerk could not be reached to delete the account; nothing was deleted.") \
                from exc
        log.info("clerk_user_deleted", clerk_id=clerk_id)
