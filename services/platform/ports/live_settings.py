"""Storage of the live settings document (`repositories/live_settings.py`)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class LiveSettingsRepository(Protocol):
    async def get(self) -> dict[str, Any] | None: ...
    async def save(self, values: dict[str, Any], *, expected_version: int) -> bool: ...
