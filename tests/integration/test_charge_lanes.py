"""Charges of one account that come while another of its charges is being written go in one guarded
write (services/credits/combine.py): fewer writes, the same books, exact balances after, and every
way a merged write can fail handled as a lone charge's is. The real account repository on the
embedded MongoDB-wire server, counting (and, where a test says so, holding or cutting) its writes.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from repositories.credits import BeanieCreditAccountRepository
from repositories.ledger import BeanieLedgerRepository
from services.credits.combine import ChargeLanes
from services.credits.model import (
    Account,
    after_charge,
    charge_change,
    merged_charges,
    new_op,
    split_charge,
)
from services.credits.service import CreditsService
from services.platform.clock import utcnow
from services.platform.errors import InsufficientCredits
from tests.fixtures.credits import fund, service_over
from tests.integration.test_credits_owed import books


class CountingAccounts(BeanieCreditAccountRepository):
    """The real repository, recording how many charges each write parked; `hold` keeps the next write
    from starting until set; `cut_merged` makes merged writes land, then fail as a dropped connection."""

    def __init__(self) -> None:
        self.writes: list[int] = []
        self.hold: asyncio.Event | None = None
        self.started = asyncio.Event()
        self.cut_merged = False
        self.before_merged = None  # an awaitable factory run before a merged write

    async def apply_many(self, ops, change):
        self.started.set()
        if self.hold is not None:
            hold, self.hold = self.hold, None
            await hold.wait()
        if len(ops) > 1 and self.before_merged is not None:
            before, self.before_merged = self.before_merged, None
            await before()
        after = await super().apply_many(ops, change)
        if after is not None:
            self.writes.append(len(ops))
        if self.cut_merged and len(ops) > 1:
            raise ConnectionError("the connection dropped before the answer")
        return after


@pytest.fixture
def lanes(container):
    return service_over(CountingAccounts(), container)


async def charge(service, user_id: str, amount: int):
    return await service.charge(user_id, amount, plan="free", kind="chat", ref=None, request_id="req_lane")


async def test_concurrent_charges_of_one_account_share_writes_and_keep_exact_books(lanes):
    service, accounts = lanes
    rng = random.Random(7)
    amounts = [rng.randint(1, 60) for _ in range(120)]
    funded = sum(amounts)
    await fund(service, "usr_lane", funded)
    assert await service.redeem_gift("usr_lane", code="LANE-1", tier="gift_999", credits=None,
                                     request_id=None)
    accounts.writes.clear()
    receipts = await asyncio.gather(*(charge(service, "usr_lane", n) for n in amounts))
    assert len(accounts.writes) < len(amounts) and max(accounts.writes) > 1  # merged writes happened
    assert sum(accounts.writes) == len(amounts)  # each charge written exactly once
    taken = {pot: sum(r.sources.get(pot, 0) for r in receipts) for pot in ("allowance", "gift", "balance")}
    assert taken["allowance"] == 25 and taken["gift"] == 999  # allowance → gift → balance, as alone
    assert taken["balance"] == sum(amounts) - 25 - 999
    await service.settle()
    after = await books(service, "usr_lane")
    assert after["balance"] == funded - taken["balance"] == 25 + 999
    # Each charge's balance after is exact: walking the charges that drew on the balance from the
    # highest balance after down, each is the one before less what it drew.
    ops, _ = await service.ledger("usr_lane", limit=200)
    assert sum(op.kind == "charge" for op in ops) == len(amounts)
    drew = sorted((op for op in ops if op.kind == "charge" and op.sources["balance"]),
                  key=lambda op: -op.balance_after)
    balance = funded
    for op in drew:
        balance += op.sources["balance"]
        assert op.balance_after == balance
    assert balance == after["balance"]


async def test_charges_past_what_the_account_holds_are_refused_exactly_when_merged(lanes):
    service, accounts = lanes
    await fund(service, "usr_lane402", 25)  # + 25 free daily allowance = 50 spendable
    results = await asyncio.gather(*(charge(service, "usr_lane402", 1) for _ in range(300)),
                                   return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 50
    assert sum(isinstance(r, InsufficientCredits) for r in results) == 250
    assert max(accounts.writes) > 1
    after = await books(service, "usr_lane402")
    assert after["balance"] == 0 and after["allowance_used"] == 25 and len(after["charges"]) == 50


async def test_a_merged_write_parking_more_charges_than_sql_fits_keeps_the_allowance_exact(lanes):
    # The embedded server applies an update of more than ~63 fields in Python, where its `$inc` of
    # "allowance.used" once made a top-level field of that name: 45 allowance charges of 25.
    service, accounts = lanes
    await fund(service, "usr_lane_wide", 100)
    await charge(service, "usr_lane_wide", 1)  # the account is this process's: the next ones merge
    hold = accounts.hold = asyncio.Event()
    accounts.started.clear()
    first = asyncio.ensure_future(charge(service, "usr_lane_wide", 1))
    await accounts.started.wait()
    waiting = [asyncio.ensure_future(charge(service, "usr_lane_wide", 1)) for _ in range(90)]
    await asyncio.sleep(0.05)
    hold.set()
    receipts = await asyncio.gather(first, *waiting)
    assert max(accounts.writes) == 90  # one write parked all that waited
    assert sum(r.sources.get("allowance", 0) for r in receipts) == 24  # the first charge took one
    await service.settle()
    after = await books(service, "usr_lane_wide")
    assert after["allowance_used"] == 25 and after["balance"] == 100 - 67
    raw = await accounts._col.find_one({"_id": "usr_lane_wide"}, {"pending": 0})
    assert set(raw) == {"_id", "balance", "gift", "allowance", "pending_count", "credit_seq"}, raw


async def test_a_merged_write_whose_answer_was_lost_refunds_every_charge_in_it(lanes):
    service, accounts = lanes
    await fund(service, "usr_lanecut", 500)
    accounts.writes.clear()
    held = accounts.hold = asyncio.Event()
    accounts.cut_merged = True
    first = asyncio.create_task(charge(service, "usr_lanecut", 10))  # the lone write, held
    await accounts.started.wait()
    waiting = [asyncio.create_task(charge(service, "usr_lanecut", n)) for n in (20, 30, 40)]
    await asyncio.sleep(0.05)  # all three wait behind the held write
    held.set()
    assert (await first).amount == 10
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results), results  # each caller sees the error
    assert accounts.writes == [1, 3]  # the three landed in one write
    await service.reconcile(older_than_s=0)  # the voids: found and refunded
    after = await books(service, "usr_lanecut")
    assert after["balance"] == 500 and after["allowance_used"] == 10 and len(after["charges"]) == 4
    assert len(after["refunded"]) == 3 and after["reasons"] == ["charge_in_doubt"] * 3


async def test_a_merged_write_whose_guard_failed_makes_each_charge_again_alone(lanes, container):
    service, accounts = lanes
    await fund(service, "usr_lanerace", 100)
    accounts.writes.clear()
    catalog = container.platform.catalog
    other = CreditsService(BeanieCreditAccountRepository(), BeanieLedgerRepository(), catalog)

    async def another_process_grants() -> None:  # bumps the account's credit_seq: the merged guard fails
        await fund(other, "usr_lanerace", 1000)

    held = accounts.hold = asyncio.Event()
    accounts.before_merged = another_process_grants
    first = asyncio.create_task(charge(service, "usr_lanerace", 30))
    await accounts.started.wait()
    waiting = [asyncio.create_task(charge(service, "usr_lanerace", n)) for n in (40, 50, 60)]
    await asyncio.sleep(0.05)
    held.set()
    receipts = [await first, *await asyncio.gather(*waiting)]
    assert [r.amount for r in receipts] == [30, 40, 50, 60]
    assert accounts.writes[0] == 1 and sum(accounts.writes) == 4  # the merged write parked none
    after = await books(service, "usr_lanerace")
    assert after["balance"] == 100 + 1000 + 25 - 180 and len(after["charges"]) == 4


async def test_a_waiting_charge_cancelled_before_its_write_is_dropped_and_one_cancelled_during_it_refunded(
        lanes):
    service, accounts = lanes
    await fund(service, "usr_lanegone", 500)
    accounts.writes.clear()
    first_hold = accounts.hold = asyncio.Event()
    first = asyncio.create_task(charge(service, "usr_lanegone", 25))  # takes the allowance; held
    await accounts.started.wait()
    dropped = asyncio.create_task(charge(service, "usr_lanegone", 7))
    kept = [asyncio.create_task(charge(service, "usr_lanegone", n)) for n in (11, 13)]
    await asyncio.sleep(0.05)  # all three wait behind the held write
    dropped.cancel()  # before its write: dropped
    merged_hold = accounts.hold = asyncio.Event()  # the next write (the merged one) is held in turn
    accounts.started.clear()
    first_hold.set()
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert (await first).amount == 25
    await accounts.started.wait()  # the merged write of 11 and 13 is under way, held
    kept[1].cancel()  # during its write: it may land, so it is owed as a void
    merged_hold.set()
    assert (await kept[0]).amount == 11
    with pytest.raises(asyncio.CancelledError):
        await kept[1]
    assert accounts.writes == [1, 2]
    await service.reconcile(older_than_s=0)
    after = await books(service, "usr_lanegone")
    assert len(after["charges"]) == 3  # 25, 11 and 13: never the dropped 7
    assert after["reasons"] == ["charge_in_doubt"] and after["balance"] == 500 - 11


def test_a_merged_change_does_what_the_changes_do_one_after_the_other():
    """`merged_charges` against `after_charge` applied in turn, over random pots and amounts."""
    rng = random.Random(28)
    for _ in range(500):
        now = utcnow()
        account = Account(user_id="usr_m", balance=rng.randint(0, 400), allowance_used=rng.randint(0, 25),
                          allowance_day=rng.choice([None, "2000-01-01", now.strftime("%Y-%m-%d")]))
        state, changes = account, []
        for _ in range(rng.randint(2, 6)):
            try:
                taken = split_charge(state, rng.randint(1, 40), limit=25, now=now)
            except InsufficientCredits:
                break
            changes.append(charge_change(state, taken, limit=25, now=now))
            state = after_charge(state, changes[-1])
        if len(changes) < 2:
            continue
        merged = merged_charges(changes)
        assert merged is not None
        alone = after_charge(account, merged)
        assert (alone.balance, alone.allowance_day, alone.allowance_used) == \
            (state.balance, state.allowance_day, state.allowance_used)
        assert merged.balance_guard == any(c.balance_guard for c in changes)
        if merged.allowance and not merged.rollover:  # the cap admits the allowance used as it was, no more
            assert merged.used_cap == 25 - merged.allowance
            assert merged.allowance == state.allowance_used - account.allowance_used


async def test_a_fault_after_a_merged_write_reaches_every_waiting_charge_and_voids_it(container):
    """No waiting charge hangs: a fault of Muse's own (here, in queueing the ledger entries) after a
    merged write fails each waiting caller, and each charge, written, is owed as a void."""
    accounts, voids = CountingAccounts(), []
    await fund(container.credits.service, "usr_lanefault", 100)

    def landed(op, after):
        if len(voids) or op.meta.get("merged"):
            raise RuntimeError("a fault after the write")
        return None

    lanes = ChargeLanes(accounts, landed=landed, in_doubt=voids.append)

    def build(amount: int, merged: bool):
        def make(account):
            now = utcnow()
            taken = split_charge(account, amount, limit=0, now=now)
            op = new_op("usr_lanefault", "charge", sources={p: -v for p, v in taken.items()}, ref=None,
                        request_id=None, meta={"merged": merged})
            return op, charge_change(account, taken, limit=0, now=now)
        return make

    first_op, first_change = build(5, False)(await accounts.ensure("usr_lanefault"))
    held = accounts.hold = asyncio.Event()
    first = asyncio.create_task(lanes.alone(first_op, first_change))
    await accounts.started.wait()
    waiting = [asyncio.create_task(lanes.join("usr_lanefault", build(n, True))) for n in (6, 7)]
    await asyncio.sleep(0.05)
    held.set()
    assert (await first).balance == 95
    results = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 5)
    assert all(isinstance(r, RuntimeError) for r in results), results
    assert sorted(-op.delta for op in voids) == [6, 7] and not lanes.busy("usr_lanefault")
