"""Updates of nested fields behave as MongoDB's however many fields an update names (app/nx_server.py).

The embedded server (neosqlite) applies an update of more than ~63 fields in Python, where its
`$inc`, `$unset`, `$min` and `$max` ignored dotted paths: a merged charge made a top-level field
named "allowance.used", and a clean-up of as many pending slots removed none. Against a real
MongoDB (MONGODB_URI set) this passes as well.
"""

from __future__ import annotations

import uuid

import pytest
from pymongo import AsyncMongoClient, ReturnDocument


@pytest.mark.parametrize("slots", [3, 90])
async def test_nested_operators_reach_the_nested_field_in_small_and_wide_updates(servers, slots):
    client = AsyncMongoClient(servers["mongodb_uri"])
    try:
        col = client[f"t_{uuid.uuid4().hex[:12]}"]["accounts"]
        await col.insert_one({"_id": "a", "allowance": {"day": "d", "used": 2, "peak": 5, "low": 5},
                              "pending": {f"s{i}": {"n": i} for i in range(slots)}, "count": slots})
        wide = {f"pending.t{i}": {"n": i} for i in range(slots)}
        free = {f"pending.t{i}": {"$exists": False} for i in range(slots)}
        after = await col.find_one_and_update(
            {"_id": "a", "allowance.used": {"$lte": 2}, **free},
            {"$inc": {"allowance.used": 3, "count": slots}, "$max": {"allowance.peak": 9},
             "$min": {"allowance.low": 1}, "$set": wide}, return_document=ReturnDocument.AFTER)
        assert after["allowance"] == {"day": "d", "used": 5, "peak": 9, "low": 1}
        assert len(after["pending"]) == 2 * slots and after["count"] == 2 * slots
        assert not [key for key in after if "." in key], after.keys()
        cleared = await col.find_one_and_update(
            {"_id": "a"}, {"$unset": {f"pending.s{i}": "" for i in range(slots)}, "$inc": {"count": -slots}},
            return_document=ReturnDocument.AFTER)
        assert sorted(cleared["pending"]) == sorted(f"t{i}" for i in range(slots))
        assert cleared["count"] == slots and cleared["allowance"]["used"] == 5
    finally:
        await client.close()
