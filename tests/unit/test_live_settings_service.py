"""LiveSettingsService rules with hand-written fakes: cache window, merging, validation, audit, outages."""

from __future__ import annotations

from typing import Any

import pytest

from services.platform.errors import Conflict, ValidationFailed
from services.platform.live_settings import LiveSettings, LiveSettingsService


class FakeLiveSettingsRepository:
    def __init__(self) -> None:
        self.stored: dict[str, Any] | None = None
        self.reads = 0
        self.fail = False
        self.conflicts = 0

    async def get(self) -> dict[str, Any] | None:
        self.reads += 1
        if self.fail:
            raise ConnectionError("mongo down")
        return dict(self.stored) if self.stored else None

    async def save(self, values: dict[str, Any], *, expected_version: int) -> bool:
        if self.conflicts:
            self.conflicts -= 1
            return False
        current = (self.stored or {}).get("version", 0)
        if current != expected_version:
            return False
        self.stored = {**values, "version": expected_version + 1}
        return True


class FakeAuditLog:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    async def record(self, **entry: Any) -> str:
        self.entries.append(entry)
        return f"aud_{len(self.entries)}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


DEFAULTS = LiveSettings(signup_credits=10, providers={"gemini": True, "openai": True, "replicate": True})


@pytest.fixture
def parts():
    repo, audit, clock = FakeLiveSettingsRepository(), FakeAuditLog(), FakeClock()
    service = LiveSettingsService(repo, audit, defaults=DEFAULTS, ttl=2.0, monotonic=clock)
    return service, repo, audit, clock


async def test_defaults_apply_until_something_is_saved(parts):
    service, _, audit, _ = parts
    live = await service.current()
    assert live == DEFAULTS
    assert live.maintenance_mode is False and live.chat_enabled and live.images_enabled
    assert audit.entries == []


async def test_reads_are_cached_for_the_ttl_then_refreshed(parts):
    service, repo, _, clock = parts
    await service.current()
    await service.current()
    assert repo.reads == 1
    repo.stored = {**DEFAULTS.editable(), "maintenance_mode": True, "version": 1}
    clock.now += 1.9
    assert (await service.current()).maintenance_mode is False
    clock.now += 0.2
    assert (await service.current()).maintenance_mode is True
    assert repo.reads == 2


async def test_update_merges_providers_audits_before_and_after_and_refreshes_the_cache(parts):
    service, repo, audit, _ = parts
    after = await service.update({"providers": {"gemini": False}, "chat_enabled": False},
                                 admin_id="usr_admin", request_id="req-1")
    assert after.providers == {"gemini": False, "openai": True, "replicate": True}
    assert after.chat_enabled is False and after.version == 1 and after.updated_by == "usr_admin"
    assert (await service.current()) == after
    assert repo.stored["providers"] == {"gemini": False, "openai": True, "replicate": True}
    [entry] = audit.entries
    assert entry["actor_id"] == "usr_admin" and entry["request_id"] == "req-1"
    assert entry["action"] == "settings.update"
    assert entry["before"]["chat_enabled"] is True and entry["before"]["providers"]["gemini"] is True
    assert entry["after"]["chat_enabled"] is False and entry["after"]["providers"]["gemini"] is False
    assert not service.provider_enabled(after, "gemini")
    assert service.provider_enabled(after, "openai")
    assert service.provider_enabled(after, "some_new_provider")


async def test_an_update_that_changes_nothing_writes_no_audit_entry(parts):
    service, repo, audit, _ = parts
    await service.update({"maintenance_mode": True}, admin_id="usr_a", request_id=None)
    again = await service.update({"maintenance_mode": True}, admin_id="usr_b", request_id=None)
    assert again.version == 1 and again.updated_by == "usr_a"
    assert len(audit.entries) == 1


async def test_a_concurrent_write_is_retried_on_the_fresh_version(parts):
    service, repo, audit, _ = parts
    repo.conflicts = 2
    after = await service.update({"signup_credits": 50}, admin_id="usr_a", request_id=None)
    assert after.signup_credits == 50 and len(audit.entries) == 1
    repo.conflicts = 99
    with pytest.raises(Conflict):
        await service.update({"signup_credits": 60}, admin_id="usr_a", request_id=None)


@pytest.mark.parametrize("patch, loc", [
    ({"maintenance_mode": "yes"}, ["body", "maintenance_mode"]),
    ({"signup_credits": -1}, ["body", "signup_credits"]),
    ({"signup_credits": True}, ["body", "signup_credits"]),
    ({"providers": {"nosuch": False}}, ["body", "providers", "nosuch"]),
    ({"providers": {"gemini": 0}}, ["body", "providers", "gemini"]),
    ({"colour": "blue"}, ["body", "colour"]),
], ids=["flag-not-bool", "negative-credits", "bool-credits", "unknown-provider", "provider-not-bool",
        "unknown-key"])
async def test_invalid_changes_are_refused_and_nothing_is_written(parts, patch, loc):
    service, repo, audit, _ = parts
    with pytest.raises(ValidationFailed) as caught:
        await service.update(patch, admin_id="usr_a", request_id=None)
    assert caught.value.extra["errors"][0]["loc"] == loc
    assert repo.stored is None and audit.entries == []


async def test_a_settings_outage_serves_the_last_known_values(parts):
    service, repo, _, clock = parts
    await service.update({"maintenance_mode": True}, admin_id="usr_a", request_id=None)
    repo.fail = True
    clock.now += 10
    assert (await service.current()).maintenance_mode is True


async def test_an_outage_before_any_read_serves_the_defaults():
    repo = FakeLiveSettingsRepository()
    repo.fail = True
    service = LiveSettingsService(repo, FakeAuditLog(), defaults=DEFAULTS)
    assert await service.current() == DEFAULTS


async def test_while_one_task_refreshes_the_others_get_the_last_value_without_waiting(parts):
    import asyncio

    service, repo, _, clock = parts
    await service.current()
    gate = asyncio.Event()
    original = repo.get

    async def slow_get():
        await gate.wait()
        return await original()

    repo.get = slow_get
    repo.stored = {**DEFAULTS.editable(), "maintenance_mode": True, "version": 1}
    clock.now += 5
    refresher = asyncio.create_task(service.current())
    await asyncio.sleep(0)
    assert (await asyncio.wait_for(service.current(), 0.1)).maintenance_mode is False  # stale, immediate
    gate.set()
    assert (await refresher).maintenance_mode is True
    assert (await service.current()).maintenance_mode is True
