"""Stored-data migrations, applied by `python -m app migrate` (and by `make run` before serving).

Each step is idempotent: it only touches documents still in the old shape, so running
the command again changes nothing. Steps are per document ($set + $unset), which every
MongoDB-wire server supports.

1. Payment-processor neutral names (issue 11):
   payments:      order_id → external_id, capture_id → external_capture_id
   subscriptions: paypal_plan_id → external_plan_id, paypal_subscription_id → external_id,
                  provider = "paypal" when missing
   and the indexes on the old names are dropped (Beanie creates the new ones at start-up).
"""

from __future__ import annotations

from typing import Any

import structlog
from pymongo.asynchronous.database import AsyncDatabase

log = structlog.stdlib.get_logger("muse.migrations")

_RENAMES: dict[str, dict[str, str]] = {
    "payments": {"order_id": "external_id", "capture_id": "external_capture_id"},
    "subscriptions": {"paypal_plan_id": "external_plan_id", "paypal_subscription_id": "external_id"},
}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "payments": {"provider": "paypal"},
    "subscriptions": {"provider": "paypal"},
}



async def _rename_fields(db: AsyncDatabase[Any], collection: str, renames: dict[str, str],
                         defaults: dict[str, Any]) -> int:
    col = db[collection]
    old_shape = {"$or": [{old: {"$exists": True}} for old in renames]
                 + [{name: {"$exists": False}} for name in defaults]}
    moved = 0
    async for doc in col.find(old_shape):
        update_set = {new: doc[old] for old, new in renames.items() if old in doc and new not in doc}
        update_set.update({name: value for name, value in defaults.items() if name not in doc})
        unset = {old: "" for old in renames if old in doc}
        update: dict[str, Any] = {}
        if update_set:
            update["$set"] = update_set
        if unset:
            update["$unset"] = unset
        if update:
            await col.update_one({"_id": doc["_id"]}, update)
            moved += 1
    return moved


async def _drop_old_indexes(db: AsyncDatabase[Any], collection: str, old_fields: set[str]) -> list[str]:
    """Drop every index on a renamed field (matched by its keys: servers name indexes differently)."""
    dropped = []
    async for index in await db[collection].list_indexes():
        keys = index.get("key") or {}
        if index.get("name") != "_id_" and old_fields & set(keys):
            await db[collection].drop_index(index["name"])
            dropped.append(str(index["name"]))
    return dropped


async def migrate(db: AsyncDatabase[Any]) -> dict[str, Any]:
    """Apply every migration step; what each changed (all zeros/empty on a second run)."""
    result: dict[str, Any] = {}
    for collection, renames in _RENAMES.items():
        result[collection] = {
            "documents": await _rename_fields(db, collection, renames, _DEFAULTS.get(collection, {})),
            "dropped_indexes": await _drop_old_indexes(db, collection, set(renames)),
        }
    log.info("migrations_applied", **result)
    return result
