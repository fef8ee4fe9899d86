"""CreditsService against the real nx-27017 server: order of pots, concurrency, refunds, once-per-ref."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from app.problems import status_of
from services.credits.model import next_reset
from services.platform.clock import utcnow
from services.platform.errors import Conflict, InsufficientCredits
from tests.fixtures.credits import fund, travel, travel_to


async def _spend(credits, user_id, n=1, plan="free"):
    return await credits.charge(user_id, n, plan=plan, kind="chat", ref=None, request_id="req_t")


@pytest.mark.burst
async def test_1000_concurrent_charges_against_50_spendable_succeed_exactly_50_times(credits):
    await fund(credits, "usr_c", 25)  # + 25 free daily allowance = 50 spendable
    results = await asyncio.gather(*[_spend(credits, "usr_c") for _ in range(1000)], return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(ok) == 50 and len(refused) == 950
    assert all(status_of(r) == 402 and r.code == "insufficient_credits" for r in refused)
    assert sum(r.sources.get("allowance", 0) for r in ok) == 25
    assert sum(r.sources.get("balance", 0) for r in ok) == 25
    summary = await credits.summary("usr_c", plan="free")
    assert summary["spendable"] == 0 and summary["balance"] == 0
    audit = await credits.audit("usr_c")
    assert audit["ok"] and audit["pending"] == 0 and audit["ledger_balance"] == 0
    entries, _ = await credits.ledger("usr_c", limit=100)
    assert sum(1 for e in entries if e.kind == "charge") == 50


async def test_a_charge_draws_allowance_then_gift_then_balance(credits):
    await fund(credits, "usr_o", 10)
    assert await credits.redeem_gift("usr_o", code="CODE-1", tier="gift_999", credits=None, request_id=None)
    receipt = await credits.charge("usr_o", 1030, plan="free", kind="image", ref="img_1", request_id="r")
    assert receipt.sources == {"allowance": 25, "gift": 999, "balance": 6}
    summary = await credits.summary("usr_o", plan="free")
    assert summary["balance"] == 4 and summary["gift"] is None and summary["spendable"] == 4
    with pytest.raises(InsufficientCredits) as info:
        await credits.charge("usr_o", 5, plan="free", kind="chat", ref=None, request_id=None)
    assert "costs 5 credits; 4 credits are available" in info.value.detail


async def test_refund_restores_exactly_the_sources_once_even_when_raced(credits):
    await fund(credits, "usr_r", 10)
    receipt = await credits.charge("usr_r", 30, plan="free", kind="image", ref="img_2", request_id="r")
    assert receipt.sources == {"allowance": 25, "balance": 5}
    results = await asyncio.gather(*[credits.refund(receipt, reason="provider_failed", request_id="r")
                                     for _ in range(20)])
    assert results.count(True) == 1
    summary = await credits.summary("usr_r", plan="free")
    assert summary["allowance"]["used"] == 0 and summary["balance"] == 10
    entries, _ = await credits.ledger("usr_r", limit=10)
    refunds = [e for e in entries if e.kind == "refund"]
    assert len(refunds) == 1 and refunds[0].sources == {"allowance": 25, "gift": 0, "balance": 5}
    assert refunds[0].ref == receipt.id and refunds[0].reason == "provider_failed"
    assert (await credits.audit("usr_r"))["ok"]


async def test_purchase_grant_and_reversal_apply_once_per_ref_under_concurrency(credits):
    bought = await asyncio.gather(
        *[credits.purchase("usr_p", 500, ref="cap_1", request_id="r") for _ in range(20)])
    assert bought.count(True) == 1
    assert not await credits.purchase("usr_p", 500, ref="cap_1", request_id="r")
    reversed_ = await asyncio.gather(*[credits.reverse("usr_p", 500, ref="cap_1", reason="refunded",
                                                       request_id="r") for _ in range(5)])
    assert reversed_.count(True) == 1
    summary = await credits.summary("usr_p", plan="free")
    assert summary["balance"] == 0
    assert (await credits.audit("usr_p"))["ok"]


async def test_a_reversal_may_leave_a_negative_balance_that_is_not_spendable(credits):
    await credits.purchase("usr_n", 100, ref="cap_2", request_id=None)
    await _spend(credits, "usr_n", 60)  # 25 allowance + 35 balance
    assert await credits.reverse("usr_n", 100, ref="cap_2", reason="chargeback", request_id=None)
    summary = await credits.summary("usr_n", plan="free")
    assert summary["balance"] == -35 and summary["spendable"] == 0
    assert (await credits.audit("usr_n"))["ok"]


async def test_admin_adjustment_cannot_take_the_balance_below_zero(credits):
    await fund(credits, "usr_a", 5)
    entry = await credits.adjust("usr_a", 7, admin_id="usr_admin", reason="goodwill", request_id="r")
    assert entry.kind == "admin_adjustment" and entry.balance_after == 12 and entry.admin_id == "usr_admin"
    with pytest.raises(Conflict):
        await credits.adjust("usr_a", -13, admin_id="usr_admin", reason="oops", request_id="r")
    await credits.adjust("usr_a", -12, admin_id="usr_admin", reason="clawback", request_id="r")
    assert (await credits.summary("usr_a", plan="free"))["balance"] == 0


async def test_the_allowance_resets_at_the_utc_day_boundary(credits):
    travel_to(next_reset(utcnow()) - timedelta(minutes=1))
    for _ in range(25):
        await _spend(credits, "usr_d")
    with pytest.raises(InsufficientCredits):
        await _spend(credits, "usr_d")
    travel(timedelta(minutes=2))
    summary = await credits.summary("usr_d", plan="free")
    assert summary["allowance"]["used"] == 0 and summary["allowance"]["remaining"] == 25
    receipt = await _spend(credits, "usr_d")
    assert receipt.sources == {"allowance": 1}
    assert (await credits.summary("usr_d", plan="free"))["allowance"]["used"] == 1


async def test_a_refund_after_the_day_ended_forfeits_the_old_allowance(credits):
    travel_to(next_reset(utcnow()) - timedelta(seconds=30))
    receipt = await _spend(credits, "usr_f", 3)
    travel(timedelta(minutes=1))
    assert await credits.refund(receipt, reason="late", request_id=None)
    entries, _ = await credits.ledger("usr_f", limit=5)
    assert entries[0].kind == "refund" and entries[0].delta == 0
    assert entries[0].meta["forfeited"] == {"allowance": 3}
    assert (await credits.summary("usr_f", plan="free"))["allowance"]["used"] == 0


async def test_a_gift_tier_stops_counting_when_it_expires(credits):
    assert await credits.redeem_gift("usr_g", code="CODE-2", tier="gift_999", credits=None, request_id=None)
    summary = await credits.summary("usr_g", plan="free")
    assert summary["gift"]["remaining"] == 999 and summary["spendable"] == 1024
    travel(timedelta(days=30, minutes=1))
    summary = await credits.summary("usr_g", plan="free")
    assert summary["gift"] is None and summary["spendable"] == 25
    with pytest.raises(InsufficientCredits):
        await _spend(credits, "usr_g", 26)


async def test_a_gift_tier_redeemed_on_an_active_one_extends_it(credits):
    assert await credits.redeem_gift("usr_x", code="CODE-3", tier="gift_999", credits=None, request_id=None)
    first = (await credits.summary("usr_x", plan="free"))["gift"]
    await _spend(credits, "usr_x", 125)  # 25 allowance + 100 gift
    assert await credits.redeem_gift("usr_x", code="CODE-4", tier="gift_1499", credits=None, request_id=None)
    again = await credits.redeem_gift("usr_x", code="CODE-4", tier="gift_1499", credits=None, request_id=None)
    assert not again
    gift = (await credits.summary("usr_x", plan="free"))["gift"]
    assert gift["tier"] == "gift_1499" and gift["remaining"] == 899 + 1499

    def parse(s):
        return datetime.fromisoformat(s.replace("Z", "+00:00"))

    assert parse(gift["expires_at"]) - parse(first["expires_at"]) == timedelta(days=60)


async def test_plan_allowance_follows_the_plan_passed_in(credits):
    receipt = await credits.charge("usr_s", 400, plan="starter", kind="chat", ref=None, request_id=None)
    assert receipt.sources == {"allowance": 400}
    summary = await credits.summary("usr_s", plan="starter")
    assert summary["allowance"]["limit"] == 500 and summary["allowance"]["remaining"] == 100


async def test_a_charge_from_a_stale_view_still_respects_the_pot_order(container, credits):
    from services.credits.service import CreditsService

    # "process B"
    other = CreditsService(container.credits.accounts, container.credits.ledger, container.platform.catalog)
    await fund(credits, "usr_v", 10)
    receipt = await _spend(credits, "usr_v", 25)  # this process now remembers: allowance used up
    assert await other.refund(receipt, reason="failed", request_id=None)  # B gives the allowance back
    again = await _spend(credits, "usr_v", 1)
    assert again.sources == {"allowance": 1}  # not from the balance, as the stale view would say
    assert (await credits.summary("usr_v", plan="free"))["balance"] == 10
