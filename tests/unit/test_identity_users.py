"""UserService rules with a hand-written in-memory repository."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.identity.users import User, UserService
from services.platform.errors import NotFound
from services.platform.principal import Role


class FakeUserRepository:
    """Users in a dict, keyed by id."""

    def __init__(self) -> None:
        self.rows: dict[str, User] = {}

    async def get(self, user_id: str) -> User | None:
        return self.rows.get(user_id)

    async def get_by_clerk_id(self, clerk_id: str) -> User | None:
        return next((u for u in self.rows.values() if u.clerk_id == clerk_id), None)

    async def upsert_by_clerk_id(self, clerk_id, *, on_insert: dict[str, Any], on_update: dict[str, Any]):
        user = await self.get_by_clerk_id(clerk_id)
        now = datetime.now(UTC)
        if user is None:
            user = User(id=f"usr_{len(self.rows) + 1}", clerk_id=clerk_id, created_at=now, updated_at=now,
                        **{**on_insert, **on_update})
            self.rows[user.id] = user
            return user, True
        self.rows[user.id] = user.model_copy(update={**on_update, "updated_at": now})
        return self.rows[user.id], False

    async def update(self, user_id: str, fields: dict[str, Any]) -> User | None:
        if user_id not in self.rows:
            return None
        self.rows[user_id] = self.rows[user_id].model_copy(update=fields)
        return self.rows[user_id]

    async def search(self, q, *, limit, cursor):
        return list(self.rows.values())[:limit]


async def test_hooks_run_once_per_new_user_and_jit_keeps_existing_profiles():
    seen = []

    async def hook(user):
        seen.append(user.clerk_id)

    service = UserService(FakeUserRepository(), on_created=[hook])
    first = await service.ensure_clerk_user("user_1", email="a@example.com")
    again = await service.ensure_clerk_user("user_1", email="other@example.com")
    assert seen == ["user_1"] and first.id == again.id and again.email == "a@example.com"


async def test_webhook_upserts_overwrite_the_profile():
    service = UserService(FakeUserRepository())
    await service.ensure_clerk_user("user_1", email="a@example.com", name="A")
    updated = await service.ensure_clerk_user("user_1", email="b@example.com", name="B", overwrite=True)
    assert (updated.email, updated.name) == ("b@example.com", "B")


async def test_admin_user_ids_are_admins_on_creation_and_later():
    repo = FakeUserRepository()
    plain = await UserService(repo).ensure_clerk_user("user_boss")
    assert plain.role == Role.USER
    promoted = await UserService(repo, admin_clerk_ids=["user_boss"]).ensure_clerk_user("user_boss")
    fresh = await UserService(repo, admin_clerk_ids=["user_new"]).ensure_clerk_user("user_new")
    assert promoted.role == fresh.role == Role.ADMIN


async def test_plan_changes_set_subscriber_but_never_demote_admins():
    service = UserService(FakeUserRepository())
    user = await service.ensure_clerk_user("user_1")
    assert (await service.set_plan(user.id, "starter", role=Role.SUBSCRIBER)).role == Role.SUBSCRIBER
    assert (await service.set_plan(user.id, "free", role=Role.USER)).role == Role.USER
    await service.set_role(user.id, Role.ADMIN)
    assert (await service.set_plan(user.id, "free", role=Role.USER)).role == Role.ADMIN


async def test_anonymise_disables_and_clears_personal_fields():
    service = UserService(FakeUserRepository())
    user = await service.ensure_clerk_user("user_1", email="a@example.com", name="A", image_url="http://x")
    gone = await service.anonymise(user.id)
    assert gone.disabled and gone.email is None and gone.name is None and gone.image_url is None
    assert gone.clerk_id.startswith("erased:") and "user_1" not in gone.clerk_id  # a digest, not the ID


async def test_unknown_user_is_not_found():
    with pytest.raises(NotFound):
        await UserService(FakeUserRepository()).get_or_raise("usr_missing")
