"""The MongoDB commands of an uncached chat (issue 28): a provider call's usage and cost ride the
credits' ledger batches (services/credits/ledger_writer.py), counted in the same rollup upsert as the
batch's ledger entries, so metering adds no MongoDB command of its own, on or off the request path;
and the budget-alert thresholds a batch is checked against are not read from MongoDB each batch.

Counted on the real test database with a PyMongo command listener, filtered to this test's database.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import pymongo.monitoring as monitoring

from tests.fixtures.identity import auth_headers


class _Commands(monitoring.CommandListener):
    """The commands sent to one database while armed: (command name, collection)."""

    def __init__(self) -> None:
        self.database: str | None = None
        self.seen: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name == self.database:
            self.seen.append((event.command_name, str(event.command.get(event.command_name))))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


COMMANDS = _Commands()
monitoring.register(COMMANDS)  # clients made from now on report to it; it records only when armed


def _ask(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}], "store": False}


async def _counted(app, ask) -> Counter:
    """The commands on this test's database while `ask()` runs and this process's batches land."""
    container = app.extensions["container"]
    await container.credits.service.settle()
    COMMANDS.seen.clear()
    COMMANDS.database = container.settings.mongodb_db
    try:
        await ask()
        await container.credits.service.settle()
    finally:
        COMMANDS.database = None
    return Counter(COMMANDS.seen)


async def test_a_burst_of_chats_meters_its_provider_usage_in_the_ledger_batches(chat_app_factory):
    async with chat_app_factory() as app:
        client, auth = app.test_client(), await auth_headers(app, f"b_{uuid.uuid4().hex[:6]}")
        assert (await client.post("/api/v1/chat", json=_ask("warm up"), headers=auth)).status_code == 200
        n = 16

        async def ask() -> None:
            answers = await asyncio.gather(
                *(client.post("/api/v1/chat", json=_ask(f"burst {i}"), headers=auth) for i in range(n)))
            assert [a.status_code for a in answers] == [200] * n

        started = time.monotonic()
        seen = await _counted(app, ask)
        elapsed = time.monotonic() - started
        # the burst's charges of one account share guarded writes (services/credits/combine.py)
        assert 1 <= seen[("findAndModify", "credit_accounts")] < n, seen
        # budget-alert thresholds: re-read at most every 2 s per process (before: once a batch)
        assert seen[("find", "budget_alerts")] <= 1 + elapsed / 2, (seen, elapsed)
        # The user's day row: one upsert and one unset a batch, for the batch's entries and metered calls
        # together. Before, each call's usage was one more upsert and unset of its own (2n at least).
        assert seen[("update", "usage_daily")] <= n, seen
        usage = await (await client.get("/api/v1/usage", headers=auth)).get_json()
        assert usage["totals"]["requests"] == n + 1 and usage["totals"]["tokens_out"] >= n + 1, usage
        ledger = await (await client.get("/api/v1/credits/ledger?limit=50", headers=auth)).get_json()
        charges = [e for e in ledger["items"] if e["kind"] == "charge"]
        charged = -sum(sum(e["sources"].values()) for e in charges)
        assert len(charges) == n + 1 and charged == usage["totals"]["credits"], ledger


async def test_a_burst_of_stored_chats_shares_its_insert_commands_and_stores_every_turn(chat_app_factory):
    """A stored turn is a conversation and its messages: two inserts alone. In a burst, inserts that come
    while one is under way go in one (repositories/grouped_inserts.py)."""
    async with chat_app_factory() as app:
        client, auth = app.test_client(), await auth_headers(app, f"s_{uuid.uuid4().hex[:6]}")
        n = 16

        async def ask() -> None:
            answers = await asyncio.gather(*(client.post(
                "/api/v1/chat", json={**_ask(f"stored {i}"), "store": True}, headers=auth) for i in range(n)))
            assert [a.status_code for a in answers] == [200] * n

        seen = await _counted(app, ask)
        assert 1 <= seen[("insert", "conversations")] < n and 1 <= seen[("insert", "messages")] < n, seen
        listed = await (await client.get("/api/v1/conversations?limit=50", headers=auth)).get_json()
        assert len(listed["items"]) == n
        for conversation in listed["items"]:
            detail = await (await client.get(f"/api/v1/conversations/{conversation['id']}",
                                             headers=auth)).get_json()
            assert [m["role"] for m in detail["messages"]] == ["user", "assistant"], detail
