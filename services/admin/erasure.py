"""Account deletion (contract §20): a user (or an admin for them) deletes an account for good.

In order, so that a failure part-way never leaves an account that still signs in, nor a deleted
account that still pays:
1. re-authentication: Muse's own accounts give their password (Clerk users are signed in at Clerk);
2. every live subscription (pending checkouts too) is cancelled at its processor (PayPal, Stripe).
   A processor that refuses or is down stops the deletion there (502/503, the account untouched, the
   subscriptions cancelled so far stay cancelled): the user (or admin) retries; a deleted user never
   keeps a paying subscription;
3. Clerk users are deleted at Clerk through its SDK (a refusal stops here: nothing was changed);
4. at once, in every process: the user is disabled and anonymised (no email, name, picture or
   identity-provider id: only a one-way digest of it stays, see UserService.anonymise), every
   API key revoked, every session of a Muse account ended and the account removed (its email can
   sign up again: a new user);
5. the user's data: conversations (with the images kept in them), stored `/v1/responses` answers,
   images and videos (records and stored files, expired ones too), share links, data exports.
The ledger and payments stay for accounting, under the user id only. The anonymised user record
stays as a tombstone under the digest of its sign-in subject, so a still-valid session token or a late Clerk
webhook of the deleted user cannot bring it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from services.admin.ports import (
    ApiKeys,
    Conversations,
    Exports,
    MediaRecords,
    OwnAccounts,
    ShareLinks,
    StoredResponses,
    Subscriptions,
    Users,
)
from services.identity.ports.identity import UserDeleter
from services.identity.ports.users import User
from services.platform.errors import NotFound, ValidationFailed

log = structlog.stdlib.get_logger("muse.erasure")
PAGE = 100


@dataclass(frozen=True, slots=True)
class Erased:
    """What one deletion removed."""

    user_id: str
    api_keys: int
    sessions: int
    conversations: int
    media: int
    shares: int
    responses: int
    subscriptions: int

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "status": "deleted",
                "deleted": {"api_keys": self.api_keys, "sessions": self.sessions,
                            "conversations": self.conversations, "media": self.media, "shares": self.shares,
                            "responses": self.responses, "subscriptions": self.subscriptions}}


class AccountErasure:
    """Deletes accounts (the caller's own, or any as an admin)."""

    def __init__(self, users: Users, api_keys: ApiKeys, conversations: Conversations,
                 media: list[MediaRecords], shares: ShareLinks, responses: StoredResponses, *,
                 subscriptions: Subscriptions, exports: Exports, accounts: OwnAccounts | None,
                 clerk: UserDeleter | None) -> None:
        self._users, self._keys, self._conversations = users, api_keys, conversations
        self._media, self._shares, self._accounts, self._clerk = media, shares, accounts, clerk
        self._responses, self._subscriptions, self._exports = responses, subscriptions, exports

    async def delete_own(self, user_id: str, *, password: str | None) -> Erased:
        """The caller deletes their account; a Muse account must give its password."""
        user = await self._users.get_or_raise(user_id)
        if self._accounts is not None and self._accounts.owns(user.clerk_id):
            await self._accounts.check_password(user.clerk_id, password)
        elif password is not None:
            raise ValidationFailed("This account signs in with Clerk: it has no password here.", errors=[
                {"loc": ["password"], "msg": "Only Muse's own accounts (email and password) send one."}])
        return await self._erase(user)

    async def delete_user(self, user_id: str, *, admin_id: str | None) -> Erased:
        """An admin deletes a user's account (no password asked)."""
        user = await self._users.get(user_id)
        if user is None or user.deleted:
            raise NotFound("No such user.")
        log.info("account_deletion_by_admin", user_id=user_id, admin_id=admin_id)
        return await self._erase(user)

    async def _erase(self, user: User) -> Erased:
        own = self._accounts is not None and self._accounts.owns(user.clerk_id)
        # UpstreamError/FeatureDisabled: stop before anything else changes (the caller retries)
        subscriptions = await self._subscriptions.cancel_all(user.id, reason="Account deleted")
        if not own and self._clerk is not None and not user.clerk_id.startswith("rapidapi:"):
            await self._clerk.delete_user(user.clerk_id)  # UpstreamError: nothing changed yet
        await self._users.anonymise(user.id)
        keys = await self._keys.revoke_all(user.id)
        sessions = await self._accounts.close(user.clerk_id) if own and self._accounts is not None else 0
        conversations = await self._delete_conversations(user.id)
        responses = await self._responses.delete_all(user.id)
        media = 0
        for records in self._media:
            media += await self._delete_media(records, user.id)
        shares = await self._shares.revoke_all(user.id)
        await self._exports.delete_all(user.id)  # archives and records
        erased = Erased(user.id, keys, sessions, conversations, media, shares, responses, subscriptions)
        log.info("account_deleted", **erased.as_dict()["deleted"], user_id=user.id)
        return erased

    async def _delete_conversations(self, user_id: str) -> int:
        count = 0
        while True:
            page, _ = await self._conversations.list_conversations(user_id, limit=PAGE, cursor=None)
            if not page:
                return count
            for conversation in page:
                try:
                    await self._conversations.delete_conversation(user_id, conversation.id)
                    count += 1
                except NotFound:  # deleted meanwhile
                    pass

    @staticmethod
    async def _delete_media(records: MediaRecords, user_id: str) -> int:
        count = 0
        for status in (None, "expired"):  # the default list leaves expired records out
            while True:
                page, _ = await records.list(user_id, status=status, limit=PAGE)
                if not page:
                    break
                for record in page:
                    try:
                        await records.delete(user_id, record.id)  # the record and its stored files
                        count += 1
                    except NotFound:
                        pass
        return count
