"""Inserts into one collection that come while another is under way go in one `insert_many`
(repositories/grouped_inserts.py), each caller with its own outcome. The real `messages` collection
on the embedded MongoDB-wire server; a thin proxy holds (or fails) the writes a test says.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pymongo.errors import BulkWriteError, DuplicateKeyError

from repositories.conversations import MessageDocument
from repositories.grouped_inserts import GroupedInserts


class Held:
    """The real collection; `hold` keeps the next write from starting until set, `fail_grouped` makes
    the next `insert_many` of several callers' documents fail as a dropped connection does."""

    def __init__(self, inner) -> None:
        self._inner, self.full_name = inner, inner.full_name
        self.hold: asyncio.Event | None = None
        self.started = asyncio.Event()
        self.fail_grouped = False
        self.commands: list[int] = []  # documents per command

    async def _write(self, docs, send):
        self.started.set()
        if self.hold is not None:
            hold, self.hold = self.hold, None
            await hold.wait()
        self.commands.append(len(docs))
        return await send()

    async def insert_one(self, doc):
        return await self._write([doc], lambda: self._inner.insert_one(doc))

    async def insert_many(self, docs, ordered=True):
        if self.fail_grouped and not ordered:
            raise ConnectionError("the connection dropped")
        return await self._write(docs, lambda: self._inner.insert_many(docs, ordered=ordered))


def message(n: int = 0, *, id: str | None = None) -> dict:
    return {"_id": id or f"msg_{uuid.uuid4().hex}", "conversation_id": "cnv_grouped", "position": n,
            "role": "user", "content": f"m{n}"}


@pytest.fixture
def held(app):
    return Held(MessageDocument.get_pymongo_collection())


async def stored(ids) -> set[str]:
    found = await MessageDocument.get_pymongo_collection().find({"_id": {"$in": list(ids)}}).to_list(None)
    return {d["_id"] for d in found}


async def behind_a_held_write(held, inserts, *calls):
    """Start a lone write (held), then `calls` behind it; release it; their outcomes."""
    hold = held.hold = asyncio.Event()
    first = asyncio.create_task(inserts.insert([message()]))
    await held.started.wait()
    tasks = [asyncio.create_task(call) for call in calls]
    await asyncio.sleep(0.05)
    hold.set()
    await first
    return tasks


async def test_inserts_that_come_during_one_go_in_one_write_each_with_its_documents(held):
    inserts = GroupedInserts(held)
    batches = [[message(i), message(i + 1)] for i in range(0, 60, 2)]
    tasks = await behind_a_held_write(held, inserts, *(inserts.insert(b) for b in batches))
    await asyncio.gather(*tasks)
    assert held.commands == [1, 60]  # the lone write, then the 30 callers' 60 documents in one
    assert await stored(d["_id"] for b in batches for d in b) == {d["_id"] for b in batches for d in b}


async def test_a_refused_document_fails_its_caller_only_with_what_a_lone_insert_raises(held):
    taken = message(id=f"msg_taken_{uuid.uuid4().hex}")
    await MessageDocument.get_pymongo_collection().insert_one(dict(taken))
    inserts = GroupedInserts(held)
    fine, alone_dup = [message(1)], [message(2, id=taken["_id"])]
    many = [message(3), message(4, id=taken["_id"])]
    tasks = await behind_a_held_write(held, inserts, inserts.insert(fine), inserts.insert(alone_dup),
                                      inserts.insert(many))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], DuplicateKeyError)
    assert isinstance(results[2], BulkWriteError)
    assert [e["index"] for e in results[2].details["writeErrors"]] == [1]  # its own document's index
    assert await stored([fine[0]["_id"], many[0]["_id"]]) == {fine[0]["_id"], many[0]["_id"]}


async def test_a_caller_cancelled_before_its_group_is_sent_is_left_out(held):
    inserts = GroupedInserts(held)
    gone, kept = [message(1)], [message(2)]
    hold = held.hold = asyncio.Event()
    first = asyncio.create_task(inserts.insert([message()]))
    await held.started.wait()
    leaving = asyncio.create_task(inserts.insert(gone))
    staying = asyncio.create_task(inserts.insert(kept))
    await asyncio.sleep(0.05)
    leaving.cancel()
    hold.set()
    await first
    await staying
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert await stored([gone[0]["_id"], kept[0]["_id"]]) == {kept[0]["_id"]}


async def test_a_grouped_write_with_no_answer_fails_every_caller_in_it(held):
    inserts = GroupedInserts(held)
    held.fail_grouped = True
    tasks = await behind_a_held_write(held, inserts, inserts.insert([message(1)]),
                                      inserts.insert([message(2)]))
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert all(isinstance(r, ConnectionError) for r in results), results
    held.fail_grouped = False
    await inserts.insert([message(3)])  # the lane is free again: a lone write goes at once
    assert held.commands[-1] == 1
