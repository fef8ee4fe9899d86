"""The live settings document: one MongoDB document (`_id: "global"`) with optimistic versioning."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field
from pymongo.errors import DuplicateKeyError

from repositories.documents import MuseDocument

SETTINGS_ID = "global"


class LiveSettingsDocument(MuseDocument):
    id: str = SETTINGS_ID  # type: ignore[assignment]  # our ids are strings
    maintenance_mode: bool = False
    chat_enabled: bool = True
    images_enabled: bool = True
    signup_credits: int = 0
    providers: dict[str, bool] = Field(default_factory=dict)
    version: int = 0
    updated_at: datetime | None = None
    updated_by: str | None = None

    class Settings:
        name = "live_settings"


class BeanieLiveSettingsRepository:
    """Reads and conditionally replaces the single live settings document."""

    async def get(self) -> dict[str, Any] | None:
        """The stored values (with `version`), or None when never saved."""
        raw = await LiveSettingsDocument.get_pymongo_collection().find_one({"_id": SETTINGS_ID})
        if raw is None:
            return None
        raw.pop("_id", None)
        return raw

    async def save(self, values: dict[str, Any], *, expected_version: int) -> bool:
        """Store `values` as version `expected_version + 1` if nobody saved in between."""
        collection = LiveSettingsDocument.get_pymongo_collection()
        doc = {k: v for k, v in values.items() if k not in ("_id", "id", "version")}
        doc["version"] = expected_version + 1
        if expected_version == 0:
            try:
                await collection.insert_one({"_id": SETTINGS_ID, **doc})
                return True
            except DuplicateKeyError:
                return False
        result = await collection.update_one({"_id": SETTINGS_ID, "version": expected_version}, {"$set": doc})
        return result.matched_count == 1
