"""A cached user entry is parsed once per distinct entry (repositories/users.py), never kept past a change."""

from __future__ import annotations

import asyncio
import uuid

import pydantic
import pytest

from repositories.users import BeanieUserRepository, CachedUserRepository, TombstoneCache
from services.platform.principal import Role


async def test_requests_finding_the_same_entry_share_one_parse_and_a_change_is_seen(container):
    platform = container.platform
    cache = TombstoneCache(platform.redis, prefix=f"test:{uuid.uuid4().hex}:user:", tombstone_s=1,
                           local=platform.local_copies)
    inner = BeanieUserRepository()
    users = CachedUserRepository(inner, cache)
    created, _ = await inner.upsert_by_clerk_id("user_parse_once", on_insert={"email": "once@example.com"},
                                                on_update={})
    loaded = await users.get_by_clerk_id("user_parse_once")  # a miss: loaded, and the entry filled
    found = await users.get_by_clerk_id("user_parse_once")
    again = await users.get_by_clerk_id("user_parse_once")
    assert loaded == found == created
    assert again is found  # the entry's one parse, not a new model per request
    with pytest.raises(pydantic.ValidationError):  # immutable: a shared parse cannot be changed
        found.role = Role.ADMIN  # type: ignore[misc]

    await users.update(created.id, {"role": Role.SUBSCRIBER})  # the write invalidates the entry
    assert (await users.get_by_clerk_id("user_parse_once")).role == Role.SUBSCRIBER  # type: ignore[union-attr]
    await asyncio.sleep(1.2)  # the tombstone lapses: the new entry is filled, then parsed once
    await users.get_by_clerk_id("user_parse_once")
    changed = await users.get_by_clerk_id("user_parse_once")
    assert changed is not None and changed.role == Role.SUBSCRIBER and changed is not found
    assert (await users.get_by_clerk_id("user_parse_once")) is changed
