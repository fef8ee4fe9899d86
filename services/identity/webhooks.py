"""Clerk user events (contract §8): upsert, or disable + revoke keys + anonymise; each svix-id once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from services.identity.api_keys import ApiKeyService
from services.identity.ports.identity import WebhookVerifier
from services.identity.users import UserService
from services.platform.errors import InvalidWebhook, ServiceUnavailable
from services.platform.ports.webhooks import ProcessedEvents

log = structlog.stdlib.get_logger("muse.clerk_events")

SOURCE = "clerk"


def clerk_profile(data: dict[str, Any]) -> dict[str, str | None]:
    """email, name and image_url of a Clerk user object (webhook `data` or Backend API user)."""
    emails = data.get("email_addresses") or []
    primary = data.get("primary_email_address_id")
    email = next((e.get("email_address") for e in emails if e.get("id") == primary), None)
    if email is None and emails:
        email = emails[0].get("email_address")
    name = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p) or data.get("username")
    return {"email": email, "name": name or None, "image_url": data.get("image_url") or None}


class ClerkEventService:
    """Applies verified Clerk user events exactly once per delivery id."""

    def __init__(self, users: UserService, api_keys: ApiKeyService, events: ProcessedEvents,
                 verifier: WebhookVerifier | None = None) -> None:
        self._users, self._keys, self._events, self._verifier = users, api_keys, events, verifier

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Verify a raw delivery and apply it; False when that svix-id was already processed."""
        if self._verifier is None:
            raise ServiceUnavailable("Clerk webhooks are not configured.")
        event = self._verifier.verify(body, headers)
        event_id = headers.get("svix-id") or headers.get("webhook-id")
        if not event_id:
            raise InvalidWebhook("Missing svix-id.")
        return await self.handle(event_id, event)

    async def handle(self, event_id: str, event: dict[str, Any]) -> bool:
        """Apply `event`; False when this delivery id was already processed."""
        kind = event.get("type")
        if not await self._events.claim(SOURCE, event_id, event_type=kind):
            log.info("clerk_event_replayed", svix_id=event_id, type=kind)
            return False
        try:
            await self._apply(kind, event.get("data") or {})
        except BaseException:
            await self._events.release(SOURCE, event_id)
            raise
        log.info("clerk_event_processed", svix_id=event_id, type=kind)
        return True

    async def _apply(self, kind: str | None, data: dict[str, Any]) -> None:
        clerk_id = data.get("id")
        if not isinstance(clerk_id, str) or not clerk_id:
            return
        if kind in ("user.created", "user.updated"):
            profile = clerk_profile(data)
            await self._users.ensure_clerk_user(clerk_id, overwrite=True, email=profile["email"],
                                                name=profile["name"], image_url=profile["image_url"])
        elif kind == "user.deleted":  # terminal: later user.created/updated deliveries write nothing
            user, newly = await self._users.delete_clerk_user(clerk_id)
            revoked = await self._keys.revoke_all(user.id)
            log.info("user_deleted", user_id=user.id, keys_revoked=revoked, newly=newly)
