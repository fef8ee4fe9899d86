"""Users: the domain model and the rules around just-in-time creation, roles and plans."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog

# These live with their port (in the domain's ports); imported from here too.
from services.identity.ports.users import User as User
from services.identity.ports.users import UserRepository as UserRepository
from services.platform.errors import NotFound
from services.platform.principal import Role

log = structlog.stdlib.get_logger("muse.users")

OnCreated = Callable[["User"], Awaitable[Any]]
ERASED: dict[str, Any] = {"email": None, "name": None, "image_url": None}
ERASED_PREFIX = "erased:"


def erased_subject(clerk_id: str) -> str:
    """What a deleted user keeps of its sign-in subject (Clerk ID, `muse:`/`rapidapi:` subject): a
    one-way SHA-256 digest, enough to recognise a late webhook or a still-valid token of that subject
    (and refuse it) but not to tell who it was."""
    if clerk_id.startswith(ERASED_PREFIX):
        return clerk_id
    return ERASED_PREFIX + hashlib.sha256(clerk_id.encode()).hexdigest()






class UserService:
    """Users: lookups, race-safe just-in-time creation and upserts, role/plan/disabled changes."""

    def __init__(
        self,
        users: UserRepository,
        *,
        admin_clerk_ids: Iterable[str] = (),
        on_created: list[OnCreated] | None = None,
    ) -> None:
        self._users = users
        self._admins = frozenset(admin_clerk_ids)
        self.on_created: list[OnCreated] = list(on_created or [])

    async def get(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        return await self._users.get(user_id)

    async def get_or_raise(self, user_id: str) -> User:
        """The user with this id; NotFound otherwise."""
        user = await self._users.get(user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    async def get_by_clerk_id(self, clerk_id: str) -> User | None:
        """The user with this Clerk ID, or None."""
        return await self._users.get_by_clerk_id(clerk_id)

    async def ensure_clerk_user(
        self,
        clerk_id: str,
        *,
        email: str | None = None,
        name: str | None = None,
        image_url: str | None = None,
        overwrite: bool = False,
        welcome: bool = True,
    ) -> User:
        """The user of `clerk_id`, created once if missing (race-safe); `overwrite` refreshes profile fields.

        The on_created hooks (the signup grant) run exactly once, in the call that created the user;
        with `welcome=False` (an unconfirmed email) they wait for `welcome(user)`.
        """
        profile = {"email": email, "name": name, "image_url": image_url}
        given = {k: v for k, v in profile.items() if v is not None}
        role = Role.ADMIN if clerk_id in self._admins else Role.USER
        on_insert = {"role": role, "plan": "free", "disabled": False, **profile}
        on_update: dict[str, Any] = profile if overwrite else {}
        if not overwrite:
            existing = await self._users.get_by_clerk_id(clerk_id)
            if existing is not None:
                return await self.bootstrap_admin(existing)
            on_insert.update(given)
        user, created = await self._users.upsert_by_clerk_id(
            clerk_id, on_insert=on_insert, on_update=on_update)
        if created:
            log.info("user_created", user_id=user.id, clerk_id=clerk_id, welcomed=welcome)
            if welcome:
                await self.welcome(user)
        return await self.bootstrap_admin(user)

    async def welcome(self, user: User) -> None:
        """Run the on_created hooks (the signup grant) for `user`: once, by the creating call or by
        the one call that confirmed a held-back user's email."""
        for hook in self.on_created:
            await hook(user)

    async def bootstrap_admin(self, user: User) -> User:
        """Promote a user listed in ADMIN_USER_IDS (a no-op for everyone else)."""
        if user.clerk_id in self._admins and user.role < Role.ADMIN:
            return await self._update(user.id, {"role": Role.ADMIN})
        return user

    async def set_role(self, user_id: str, role: Role) -> User:
        """Change a user's role."""
        return await self._update(user_id, {"role": Role(role)})

    async def set_plan(self, user_id: str, plan: str, *, role: Role | None = None) -> User:
        """Change a user's plan (and role when given); a subscription change never demotes an ADMIN."""
        user = await self.get_or_raise(user_id)
        fields: dict[str, Any] = {"plan": plan}
        if role is not None and user.role != Role.ADMIN:
            fields["role"] = Role(role)
        return await self._update(user_id, fields)

    async def set_disabled(self, user_id: str, disabled: bool) -> User:
        """Disable or re-enable a user."""
        return await self._update(user_id, {"disabled": disabled})

    async def anonymise(self, user_id: str) -> User:
        """Disable the user and erase personal fields; the sign-in subject becomes its digest."""
        user = await self.get_or_raise(user_id)
        return await self._update(user_id, {"disabled": True, "deleted": True, **ERASED,
                                            "clerk_id": erased_subject(user.clerk_id)})

    async def delete_clerk_user(self, clerk_id: str) -> tuple[User, bool]:
        """Mark the user of `clerk_id` deleted and anonymised, in one atomic write; True if newly deleted.

        Terminal: the repository's upsert never writes a deleted user's profile again, so a late
        (out-of-order) `user.created` / `user.updated` cannot bring personal data back. An unknown
        Clerk ID gets a tombstone (no signup grant, no hooks) for the same reason."""
        before = await self._users.get_by_clerk_id(clerk_id)
        gone = {"disabled": True, "deleted": True, **ERASED}
        user, _created = await self._users.upsert_by_clerk_id(
            clerk_id, on_insert={"role": Role.USER, "plan": "free", **gone}, on_update=gone)
        if not user.clerk_id.startswith(ERASED_PREFIX):  # then the Clerk ID itself goes (a digest stays)
            user = await self._update(user.id, {"clerk_id": erased_subject(clerk_id)})
        return user, before is None or not before.deleted

    async def search(self, q: str | None = None, limit: int = 20, cursor: str | None = None) -> list[User]:
        """Users matching `q` (id, Clerk ID, email or name), newest first, after `cursor`."""
        return await self._users.search(q, limit=limit, cursor=cursor)

    async def _update(self, user_id: str, fields: dict[str, Any]) -> User:
        user = await self._users.update(user_id, fields)
        if user is None:
            raise NotFound("No such user.")
        return user
