"""A refund that falls due while the store does not answer is owed and paid once it answers; a charge
whose write was cut without an answer (or whose caller went away mid-write) is refunded if it landed
and forgotten if it did not (services/credits/owed.py). The real account repository on the embedded
MongoDB-wire server, with the outage switched on and off in front of it.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from repositories.credits import BeanieCreditAccountRepository
from repositories.ledger import BeanieLedgerRepository
from services.credits.service import CreditsService
from tests.fixtures.credits import fund, service_over


class OutageAccounts(BeanieCreditAccountRepository):
    """The real account repository behind a store that can go away: while `down`, every call fails
    before it reaches MongoDB; `lose_answers` lets the next applies land and then fail as a dropped
    connection does; `hold` keeps an apply that landed from answering until it is set."""

    def __init__(self) -> None:
        self.down = False
        self.lose_answers = 0
        self.hold: asyncio.Event | None = None

    def _reach(self) -> None:
        if self.down:
            raise ConnectionError("the store did not answer")

    async def get(self, user_id, *, pending=True):
        self._reach()
        return await super().get(user_id, pending=pending)

    async def ensure(self, user_id):
        self._reach()
        return await super().ensure(user_id)

    async def apply_many(self, ops, change):  # every charge's write, alone or merged
        self._reach()
        after = await super().apply_many(ops, change)
        if self.hold is not None:
            await self.hold.wait()
        if self.lose_answers:
            self.lose_answers -= 1
            raise ConnectionError("the connection dropped before the answer")
        return after


@pytest.fixture
def outage(container):
    return service_over(OutageAccounts(), container)


async def books(service: CreditsService, user_id: str) -> dict:
    """The user's pots, and the ledger's charges and refunds (by the charge they refund)."""
    ops, _ = await service.ledger(user_id, limit=100)
    summary = await service.summary(user_id, plan="free")
    audit = await service.audit(user_id)
    assert audit["ok"] and audit["pending"] == 0, audit
    return {"balance": summary["balance"], "allowance_used": summary["allowance"]["used"],
            "charges": sorted(op.id for op in ops if op.kind == "charge"),
            "refunded": sorted(op.meta["charge_id"] for op in ops if op.kind == "refund"),
            "reasons": sorted(str(op.reason) for op in ops if op.kind == "refund")}


async def eventually(check, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def test_a_refund_due_while_the_store_is_down_is_owed_then_paid_by_itself_once(outage, caplog):
    service, accounts = outage
    await fund(service, "usr_owed", 10)
    receipt = await service.charge("usr_owed", 30, plan="free", kind="chat", ref="msg_o", request_id="req_o")
    accounts.down = True
    with caplog.at_level(logging.WARNING):
        await service.refund_or_owe(receipt, reason="store_failed", request_id="req_o")  # the request's
        await asyncio.sleep(0.5)  # own error stands; retries fail while the store is down
    assert any("credit_refund_owed" in str(r.msg) for r in caplog.records)
    accounts.down = False

    async def paid() -> bool:  # by the retrying task alone: nothing here asks for it
        account = await BeanieCreditAccountRepository().get("usr_owed")
        return account is not None and account.balance == 10

    await eventually(paid)
    after = await books(service, "usr_owed")
    assert after == {"balance": 10, "allowance_used": 0, "charges": [receipt.id], "refunded": [receipt.id],
                     "reasons": ["store_failed"]}


async def test_a_charge_whose_answer_was_lost_is_refunded_and_the_caller_sees_the_error(outage):
    service, accounts = outage
    await fund(service, "usr_lost", 10)
    accounts.lose_answers = 1
    with pytest.raises(ConnectionError):
        await service.charge("usr_lost", 30, plan="free", kind="chat", ref="msg_l", request_id="req_l")
    landed = await BeanieCreditAccountRepository().get("usr_lost")
    assert landed is not None and landed.balance == 5 and len(landed.pending) == 1  # it did land
    charge_id = next(iter(landed.pending))
    await service.reconcile(older_than_s=0)  # the reconcile job pays what is owed, voids included
    after = await books(service, "usr_lost")
    assert after == {"balance": 10, "allowance_used": 0, "charges": [charge_id], "refunded": [charge_id],
                     "reasons": ["charge_in_doubt"]}


async def test_a_charge_that_never_reached_the_store_is_forgotten_without_a_refund(outage):
    service, accounts = outage
    await fund(service, "usr_never", 10)
    accounts.down = True
    with pytest.raises(ConnectionError):
        await service.charge("usr_never", 30, plan="free", kind="chat", ref="msg_n", request_id=None)
    accounts.down = False
    await asyncio.sleep(0.3)  # in doubt no longer: a write cut this long ago cannot land any more
    await service.settle()
    assert service.owed == 0
    after = await books(service, "usr_never")
    assert after == {"balance": 10, "allowance_used": 0, "charges": [], "refunded": [], "reasons": []}


async def test_a_void_younger_than_its_doubt_is_kept_until_it_is_older(container):
    accounts = OutageAccounts()  # a write cut less than an hour ago might still land
    service = CreditsService(accounts, BeanieLedgerRepository(), container.platform.catalog, in_doubt_s=3600)
    await fund(service, "usr_young", 10)
    accounts.down = True
    with pytest.raises(ConnectionError):
        await service.charge("usr_young", 30, plan="free", kind="chat", ref=None, request_id=None)
    accounts.down = False
    await service.settle()
    assert service.owed == 1
    await service.reconcile(older_than_s=0)  # the reconcile threshold decides
    assert service.owed == 0


async def test_a_caller_that_goes_away_while_its_charge_is_written_keeps_no_charge(outage):
    service, accounts = outage
    await fund(service, "usr_gone", 10)
    accounts.hold = asyncio.Event()
    charging = asyncio.create_task(service.charge("usr_gone", 30, plan="free", kind="chat", ref="msg_g",
                                                  request_id=None))

    async def landed() -> bool:
        account = await BeanieCreditAccountRepository().get("usr_gone")
        return account is not None and account.balance == 5

    await eventually(landed)
    charging.cancel()  # the client disconnected while the write was out
    with pytest.raises(asyncio.CancelledError):
        await charging
    accounts.hold = None
    await service.reconcile(older_than_s=0)
    after = await books(service, "usr_gone")
    assert after["balance"] == 10 and after["allowance_used"] == 0
    assert after["refunded"] == after["charges"] and len(after["charges"]) == 1


async def test_refunds_still_owed_at_shutdown_are_named(outage, caplog):
    service, accounts = outage
    await fund(service, "usr_shut", 10)
    receipt = await service.charge("usr_shut", 3, plan="free", kind="chat", ref=None, request_id=None)
    await service.settle()
    accounts.down = True
    await service.refund_or_owe(receipt, reason="store_failed", request_id=None)
    with caplog.at_level(logging.ERROR):
        await service.aclose()
    lost = [r for r in caplog.records if "credit_refunds_lost" in str(r.msg)]
    assert lost and receipt.id in str(lost[0].msg)
    accounts.down = False
