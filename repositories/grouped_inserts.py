"""Inserts into one collection that come while another insert into it is under way go in one
`insert_many` (issue 28: a stored chat turn is two inserts, and a PyMongo command costs ~0.3–0.6 ms
of client CPU, plus the server's own).

A lone insert is sent at once, as before. While it is under way, the inserts that come into the same
collection wait. Once it answers, they are sent together in one unordered `insert_many`, and each
caller gets its own outcome:
- its documents are inserted;
- `DuplicateKeyError` (or `WriteError`) for a document of its own that the server refused; the
  other callers' documents are not affected by it;
- the command's error (no answer, a timeout) when the whole write failed, as for a lone insert:
  its documents may or may not have landed.
A caller cancelled before its group is sent is left out of it. Each caller awaits its own
documents' write, so nothing is answered before its documents are stored.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError


class _Waiting:
    __slots__ = ("docs", "done", "gone")

    def __init__(self, docs: list[dict[str, Any]], done: asyncio.Future[None]) -> None:
        self.docs, self.done, self.gone = docs, done, False

    def settle(self, error: BaseException | None) -> None:
        if not self.done.done():
            if error is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(error)


class GroupedInserts:
    """The grouped inserts of one collection (one per collection and event loop: `for_collection`)."""

    def __init__(self, collection: Any) -> None:
        self._collection, self._loop = collection, asyncio.get_running_loop()
        self._busy = False
        self._waiting: list[_Waiting] = []

    async def insert(self, docs: list[dict[str, Any]]) -> None:
        """Insert `docs` (in order, as one ordered `insert_many` when alone)."""
        if not docs:
            return
        if self._busy:
            await self._join(docs)
            return
        self._busy = True
        try:
            if len(docs) == 1:
                await self._collection.insert_one(docs[0])
            else:
                await self._collection.insert_many(docs)
        finally:
            self._send_waiting()

    async def _join(self, docs: list[dict[str, Any]]) -> None:
        waiting = _Waiting(docs, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        try:
            await asyncio.shield(waiting.done)
        except asyncio.CancelledError:
            waiting.gone = True  # left out if its group is not sent yet
            waiting.done.add_done_callback(lambda done: done.cancelled() or done.exception())  # seen
            raise

    def _send_waiting(self) -> None:
        if not self._waiting:
            self._busy = False
            return
        task = asyncio.get_running_loop().create_task(self._write_waiting())
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _write_waiting(self) -> None:
        try:
            while group := [w for w in self._waiting if not w.gone]:
                self._waiting = []
                await self._write(group)
        finally:
            self._busy = False
            for waiting in self._waiting:  # only if the loop above failed
                waiting.settle(RuntimeError("the grouped insert did not run"))
            self._waiting = []

    async def _write(self, group: list[_Waiting]) -> None:
        docs = [doc for waiting in group for doc in waiting.docs]
        try:
            await self._collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            refused = _refused_by_caller(group, exc.details.get("writeErrors") or [])
            for n, waiting in enumerate(group):
                waiting.settle(refused.get(n))
            return
        except BaseException as exc:
            for waiting in group:
                waiting.settle(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
            if not isinstance(exc, Exception):
                raise
            return
        for waiting in group:
            waiting.settle(None)


def _refused_by_caller(group: list[_Waiting], errors: list[dict[str, Any]]) -> dict[int, Exception]:
    """The error of each caller whose documents the server refused, by the caller's place: what a lone
    insert of its documents raises (`insert_one`: DuplicateKeyError or WriteError; `insert_many`:
    BulkWriteError with its own documents' indexes)."""
    starts, at = [], 0
    for waiting in group:
        starts.append(at)
        at += len(waiting.docs)
    by_caller: dict[int, list[dict[str, Any]]] = {}
    for error in errors:
        index = int(error.get("index", 0))
        caller = max(n for n, start in enumerate(starts) if start <= index)
        by_caller.setdefault(caller, []).append({**error, "index": index - starts[caller]})
    refused: dict[int, Exception] = {}
    for caller, own in by_caller.items():
        if len(group[caller].docs) == 1:
            code, message = own[0].get("code"), str(own[0].get("errmsg", "write refused"))
            refused[caller] = (DuplicateKeyError if code == 11000 else WriteError)(message, code, own[0])
        else:
            inserted = len(group[caller].docs) - len(own)
            refused[caller] = BulkWriteError({"writeErrors": own, "nInserted": inserted})
    return refused


_GROUPS: dict[str, GroupedInserts] = {}


def for_collection(collection: Any) -> GroupedInserts:
    """The grouped inserts of `collection` on the running event loop (one left on another loop, or
    for another client, is replaced: tests run apps on several)."""
    loop = asyncio.get_running_loop()
    group = _GROUPS.get(collection.full_name)
    if group is None or group._collection is not collection or group._loop is not loop:
        group = _GROUPS[collection.full_name] = GroupedInserts(collection)
    return group
