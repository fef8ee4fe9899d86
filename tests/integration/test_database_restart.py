"""A second process starts on a database that already holds conversations (a worker beside the web
process, a restart of `make run`): creating the search indexes again must not fail (nx-27017 does
not list text indexes, and re-creating one over stored documents failed with "constraint failed")."""

from __future__ import annotations

import uuid

from repositories.database import MongoDatabase


async def test_init_twice_over_stored_conversations(servers):
    name = f"t_{uuid.uuid4().hex[:12]}"
    first = MongoDatabase(servers["mongodb_uri"], name, timeout_s=10)
    await first.init()
    await first.db["conversations"].insert_one({"_id": "cnv_1", "owner_id": "u", "title": "hello world"})
    await first.db["messages"].insert_one({"_id": "msg_1", "conversation_id": "cnv_1", "content": "text"})
    second = MongoDatabase(servers["mongodb_uri"], name, timeout_s=10)
    try:
        await second.init()  # raised OperationFailure("constraint failed") before
        found = await second.db["messages"].find_one({"$text": {"$search": "text"}})
        assert found is not None and found["_id"] == "msg_1"
    finally:
        await first.client.drop_database(name)
        await first.close()
        await second.close()
