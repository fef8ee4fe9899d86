"""Crash between the account update and the ledger write: detected and repaired by reconcile."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from repositories.credits import BeanieCreditAccountRepository
from repositories.ledger import BeanieLedgerRepository
from services.credits.model import Change, new_op
from services.credits.service import CreditsService
from tests.fixtures.credits import fund


class CrashingLedger(BeanieLedgerRepository):
    """The process 'dies' right before the ledger insert while `crash` is set."""

    def __init__(self) -> None:
        self.crash = True

    async def insert(self, op):
        if self.crash:
            raise ConnectionError("process killed before the ledger write")
        return await super().insert(op)

    async def insert_many(self, ops):
        if self.crash:
            raise ConnectionError("process killed before the batched ledger write")
        return await super().insert_many(ops)


class RacyLedger(BeanieLedgerRepository):
    """Never sees an existing key in the pre-check: a late twin reaches the account update."""

    async def get_by_key(self, key):
        return None


@pytest.fixture
def crashing(container):
    ledger = CrashingLedger()
    service = CreditsService(container.credits.accounts, ledger, container.platform.catalog)
    return service, ledger


async def test_an_interrupted_charge_is_found_and_repaired_by_reconcile(container, crashing):
    service, ledger = crashing
    await fund(container.credits.service, "usr_k", 10)
    receipt = await service.charge("usr_k", 30, plan="free", kind="chat", ref="msg_1", request_id="req_k")
    assert receipt.sources == {"allowance": 25, "balance": 5}
    audit = await container.credits.service.audit("usr_k")
    assert audit == {"user_id": "usr_k", "balance": 5, "ledger_balance": 10, "pending": 1, "ok": False}

    nothing = {"repaired": 0, "cleared": 0, "undone": 0}
    assert await container.credits.service.reconcile(older_than_s=3600) == nothing
    counts = await container.credits.service.reconcile(older_than_s=0)
    assert counts == {"repaired": 1, "cleared": 0, "undone": 0}
    audit = await container.credits.service.audit("usr_k")
    assert audit["ok"] and audit["pending"] == 0 and audit["balance"] == 5
    entry = await container.credits.ledger.get(receipt.id)
    assert entry.repaired and entry.kind == "charge" and entry.request_id == "req_k" and entry.ref == "msg_1"
    assert entry.sources == {"allowance": -25, "gift": 0, "balance": -5} and entry.balance_after == 5
    assert await container.credits.service.reconcile(older_than_s=0) == nothing


async def test_a_refund_of_a_charge_still_pending_uses_its_parked_sources(container, crashing):
    service, ledger = crashing
    await fund(container.credits.service, "usr_q", 10)
    receipt = await service.charge("usr_q", 27, plan="free", kind="chat", ref=None, request_id=None)
    ledger.crash = False
    assert await service.refund(receipt, reason="failed", request_id=None)
    await service.reconcile(older_than_s=0)
    summary = await container.credits.service.summary("usr_q", plan="free")
    assert summary["balance"] == 10 and summary["allowance"]["used"] == 0
    assert (await container.credits.service.audit("usr_q"))["ok"]


async def test_an_interrupted_purchase_is_not_credited_twice_by_a_retry_or_reconcile(container, crashing):
    service, ledger = crashing
    assert await service.purchase("usr_b", 500, ref="cap_9", request_id=None)  # crashed after the update
    ledger.crash = False
    assert not await service.purchase("usr_b", 500, ref="cap_9", request_id=None)  # parked: not again
    assert (await container.credits.service.reconcile(older_than_s=0))["repaired"] == 1
    assert not await service.purchase("usr_b", 500, ref="cap_9", request_id=None)
    audit = await container.credits.service.audit("usr_b")
    assert audit["ok"] and audit["balance"] == 500


async def test_a_late_twin_that_slips_past_the_precheck_is_undone(container):
    racy = CreditsService(container.credits.accounts, RacyLedger(), container.platform.catalog)
    assert await racy.purchase("usr_t", 100, ref="cap_t", request_id=None)
    assert not await racy.purchase("usr_t", 100, ref="cap_t", request_id=None)
    audit = await container.credits.service.audit("usr_t")
    assert audit["ok"] and audit["balance"] == 100 and audit["pending"] == 0


async def test_signup_grant_is_given_once_per_user(container):
    class NewUser:
        id = "usr_new"

    live = container.platform.live_settings
    expected = (await live.current()).signup_credits if live else container.settings.signup_credits
    results = [await container.credits.service.grant_signup(NewUser()) for _ in range(3)]
    summary = await container.credits.service.summary("usr_new", plan="free")
    assert summary["balance"] == expected
    assert results.count(True) == (1 if expected > 0 else 0)


class CountingLedger(BeanieLedgerRepository):
    """The real ledger, counting its batched writes."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    async def insert_many(self, ops):
        self.batches.append(len(ops))
        return await super().insert_many(ops)


class CountingAccounts(BeanieCreditAccountRepository):
    """The real account repository, counting the batched clears of pending slots (or failing them)."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.fail = False

    async def clear_pending_many(self, slots):
        self.batches.append(len(slots))
        if self.fail:
            raise ConnectionError("process killed before the pending slots were cleared")
        await super().clear_pending_many(slots)


async def test_charges_write_their_entries_and_clear_their_slots_in_batches_off_the_request_path(container):
    accounts, ledger = CountingAccounts(), CountingLedger()
    service = CreditsService(accounts, ledger, container.platform.catalog)
    await fund(service, "usr_batch", 200)
    ledger.batches.clear()
    accounts.batches.clear()  # the grant's own write: count the charges' only
    receipts = await asyncio.gather(*[service.charge("usr_batch", 1, plan="free", kind="chat", ref=None,
                                                     request_id=None) for _ in range(60)])
    await service.settle()
    for receipt in receipts:
        entry = await BeanieLedgerRepository().get(receipt.id)
        assert entry is not None and entry.kind == "charge" and not entry.repaired
    assert sum(ledger.batches) == 60 and len(ledger.batches) < 60  # one insert per burst
    assert sum(accounts.batches) == 60 and len(accounts.batches) < 60  # one bulk write per burst
    account = await accounts.get("usr_batch")
    assert account is not None and account.pending == {}
    audit = await service.audit("usr_batch")
    assert audit["ok"] and audit["pending"] == 0 and audit["balance"] == 200 - (60 - 25)


async def test_a_crash_before_the_deferred_clear_leaves_slots_reconcile_clears_without_undoing(container):
    accounts = CountingAccounts()
    service = CreditsService(accounts, BeanieLedgerRepository(), container.platform.catalog)
    await fund(service, "usr_unclear", 40)
    accounts.fail = True  # the charges' clears fail (the grant's went through)
    for _ in range(30):
        await service.charge("usr_unclear", 1, plan="free", kind="chat", ref=None, request_id=None)
    await service.settle()
    account = await accounts.get("usr_unclear")
    assert account is not None and len(account.pending) == 30  # the clears failed: the slots stay parked
    assert account.balance == 40 - 5
    counts = await container.credits.service.reconcile(older_than_s=0)  # another process's reconcile job
    assert counts == {"repaired": 0, "cleared": 30, "undone": 0}
    audit = await container.credits.service.audit("usr_unclear")
    assert audit["ok"] and audit["pending"] == 0 and audit["balance"] == 35


async def test_a_batched_clear_finds_a_slot_already_cleared_and_clears_the_rest_once(container):
    service = container.credits.service
    await fund(service, "usr_half", 10)
    receipts = [await service.charge("usr_half", 1, plan="free", kind="chat", ref=None, request_id=None)
                for _ in range(3)]
    await service.settle()
    accounts = container.credits.accounts
    parked = [(r.id, await BeanieLedgerRepository().get(r.id)) for r in receipts]
    for _, op in parked:  # park the three ops again, as if their clears had not run yet
        assert op is not None
        await accounts.apply(op, Change(now=op.at))
    await accounts.clear_pending_many([("usr_half", parked[1][0])])  # one cleared meanwhile (reconcile)
    middle = await accounts.get("usr_half")
    assert middle is not None and set(middle.pending) == {parked[0][0], parked[2][0]}
    await accounts.clear_pending_many([("usr_half", key) for key, _ in parked])
    account = await accounts.get("usr_half")
    assert account is not None and account.pending == {}
    raw = await accounts._col.find_one({"_id": "usr_half"})
    assert raw["pending_count"] == 0


async def test_a_charge_is_in_its_ledger_page_as_soon_as_it_returns(container):
    await fund(container.credits.service, "usr_seen", 10)
    receipt = await container.credits.service.charge("usr_seen", 3, plan="free", kind="chat", ref="msg_s",
                                                     request_id="req_s")
    # no explicit settle: the read waits
    page, _ = await container.credits.service.ledger("usr_seen", limit=5)
    assert page[0].id == receipt.id and page[0].balance_after == 10


async def test_a_crash_before_the_batched_ledger_write_is_repaired_by_reconcile(container, crashing):
    service, ledger = crashing
    await fund(container.credits.service, "usr_lost", 40)
    receipts = await asyncio.gather(*[service.charge("usr_lost", 1, plan="free", kind="chat", ref=None,
                                                     request_id=None) for _ in range(30)])
    await service.settle()  # the batch failed: every op stays parked in its slot
    account = await container.credits.accounts.get("usr_lost")
    assert account is not None and len(account.pending) == 30 and account.balance == 40 - 5
    assert [await container.credits.ledger.get(r.id) for r in receipts] == [None] * 30
    counts = await container.credits.service.reconcile(older_than_s=0)  # another process's reconcile job
    assert counts == {"repaired": 30, "cleared": 0, "undone": 0}
    audit = await container.credits.service.audit("usr_lost")
    assert audit["ok"] and audit["pending"] == 0 and audit["balance"] == 35
    entries = [await container.credits.ledger.get(r.id) for r in receipts]
    assert all(e is not None and e.repaired and e.kind == "charge" for e in entries)


async def test_insert_many_tells_inserted_from_existing_and_from_a_taken_key(container):
    ledger = BeanieLedgerRepository()
    await fund(container.credits.service, "usr_many", 10)
    first = await container.credits.service.charge("usr_many", 1, plan="free", kind="chat", ref=None,
                                                   request_id=None)
    await container.credits.service.settle()
    existing = await ledger.get(first.id)
    assert existing is not None
    fresh = replace(existing, id="led_zz_fresh", key="led_zz_fresh")
    taken = replace(existing, id="led_zz_taken")  # a new id with the key of an entry already written
    fresh2 = replace(existing, id="led_zz_fresh2", key="led_zz_fresh2")
    assert await ledger.insert_many([fresh, existing, taken, fresh2]) == [
        "inserted", "exists", "duplicate_key", "inserted"]
    assert await ledger.get("led_zz_fresh") is not None and await ledger.get("led_zz_fresh2") is not None
    assert await ledger.get("led_zz_taken") is None


class SlowLedger(BeanieLedgerRepository):
    """The real ledger, slow to write batches, counting the entries written."""

    def __init__(self) -> None:
        self.written = 0

    async def insert_many(self, ops):
        await asyncio.sleep(0.05)
        outcomes = await super().insert_many(ops)
        self.written += len(ops)
        return outcomes


async def test_charges_wait_for_their_batch_once_too_many_are_unwritten(container):
    from services.credits.service import FINISH_BACKLOG

    ledger = SlowLedger()
    service = CreditsService(container.credits.accounts, ledger, container.platform.catalog)
    users = [f"usr_bp_{i}" for i in range(8)]
    for user in users:
        await fund(service, user, 100)
    ledger.written = 0  # the grants' own entries: count the charges' only
    returned, most_unwritten = 0, 0

    async def client(user: str) -> None:
        nonlocal returned, most_unwritten
        for _ in range(12):
            await service.charge(user, 1, plan="free", kind="chat", ref=None, request_id=None)
            returned += 1
            most_unwritten = max(most_unwritten, returned - ledger.written)

    await asyncio.gather(*[client(users[i % 8]) for i in range(64)])
    await service.settle()
    assert returned == ledger.written == 64 * 12
    # returned charges whose entries are not yet written stay bounded: the batch being written and
    # the queue behind it (288 here without the bound, 64 clients and a slow ledger)
    assert FINISH_BACKLOG <= most_unwritten <= 2 * FINISH_BACKLOG + 1
    for user in users:
        audit = await service.audit(user)
        assert audit["ok"] and audit["pending"] == 0


async def test_a_parked_op_leaves_out_what_the_account_says_and_reads_back_whole(container):
    accounts = container.credits.accounts
    await fund(container.credits.service, "usr_park", 10)
    charge = new_op("usr_park", "charge", sources={"allowance": 0, "gift": 0, "balance": -2}, ref="msg_p",
                    request_id=None, meta={"item": "chat"})
    refund = new_op("usr_park", "refund", key="refund:led_x", sources={"balance": 2}, ref="led_x",
                    request_id="req_p", reason="provider_failed", meta={"charge_id": "led_x"})
    for op in (charge, refund):
        assert await accounts.apply(op, Change(now=op.at)) is not None
    raw = await accounts._col.find_one({"_id": "usr_park"})
    parked = {slot["_id"]: slot for slot in raw["pending"].values()}
    assert set(parked[charge.id]) == {"_id", "kind", "at", "delta", "sources", "ref", "meta"}
    assert set(parked[refund.id]) == {"_id", "key", "kind", "at", "delta", "sources", "ref", "request_id",
                                      "reason", "meta"}
    account = await accounts.get("usr_park")
    assert account is not None and set(account.pending) == {charge.id, "refund:led_x"}
    for op in (charge, refund):
        back = account.pending[op.key]
        fields = ("id", "key", "user_id", "kind", "delta", "sources", "ref", "request_id", "reason",
                  "admin_id", "meta", "balance_after", "repaired")
        assert [getattr(back, f) for f in fields] == [getattr(op, f) for f in fields]  # balance_after: None
        assert abs((back.at - op.at).total_seconds()) < 0.001
    pots = await accounts.get("usr_park", pending=False)  # the summary's read: pots only
    assert pots is not None and pots.pending == {} and pots.balance == account.balance
    summary = await container.credits.service.summary("usr_park", plan="free")
    assert summary["balance"] == account.balance
