"""API-key spend counters against the real MongoDB-wire server: caps hold under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from repositories.key_spend import MongoKeySpendRepository
from services.platform import key_limits
from services.platform.clock import utcnow
from services.platform.errors import InsufficientCredits

AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


async def test_concurrent_reservations_never_pass_the_daily_cap(container):
    spend = MongoKeySpendRepository()
    outcomes = await asyncio.gather(*(
        spend.reserve("key_a", 1, at=AT, daily_cap=10, monthly_cap=None) for _ in range(100)))
    assert outcomes.count(None) == 10 and outcomes.count("day") == 90
    assert await spend.spent(["key_a"], at=AT) == {"key_a": (10, 10)}


async def test_the_monthly_cap_counts_every_day_of_the_month(container):
    spend = MongoKeySpendRepository()
    assert await spend.reserve("key_m", 4, at=AT, daily_cap=5, monthly_cap=6) is None
    assert await spend.reserve("key_m", 2, at=AT.replace(day=7), daily_cap=5, monthly_cap=6) is None
    assert await spend.reserve("key_m", 1, at=AT.replace(day=8), daily_cap=5, monthly_cap=6) == "month"
    assert await spend.reserve("key_m", 2, at=AT, daily_cap=5, monthly_cap=None) == "day"
    await spend.release("key_m", 4, at=AT)
    assert await spend.reserve("key_m", 3, at=AT, daily_cap=5, monthly_cap=6) is None
    assert await spend.spent(["key_m", "key_none"], at=AT) == {"key_m": (3, 5), "key_none": (0, 0)}
    # a new month starts from zero
    assert await spend.reserve("key_m", 6, at=datetime(2027, 1, 1, tzinfo=UTC), daily_cap=None,
                               monthly_cap=6) is None


async def test_concurrent_first_reservations_of_a_month_with_both_caps(container):
    spend = MongoKeySpendRepository()
    outcomes = await asyncio.gather(*(
        spend.reserve("key_b", 3, at=AT, daily_cap=100, monthly_cap=10) for _ in range(20)))
    assert outcomes.count(None) == 3 and set(outcomes) == {None, "month"}
    assert await spend.spent(["key_b"], at=AT) == {"key_b": (9, 9)}



async def test_a_refunded_charge_gives_the_keys_spend_back_and_a_failed_one_takes_none(container):
    credits, spend = container.credits.service, MongoKeySpendRepository()
    await credits.grant("usr_refund", 3, ref="seed", reason=None, request_id=None)
    limits = key_limits.KeyLimits(key_id="key_r", daily_credit_cap=100, monthly_credit_cap=100)
    token = key_limits.bind(limits)
    try:
        receipt = await credits.charge("usr_refund", 2, plan="free", kind="chat", ref=None, request_id=None)
        assert await spend.spent(["key_r"], at=utcnow()) == {"key_r": (2, 2)}
        assert await credits.refund(receipt, reason="provider_failed", request_id=None)
        assert await spend.spent(["key_r"], at=utcnow()) == {"key_r": (0, 0)}
        with pytest.raises(InsufficientCredits):  # 25 allowance + 3 balance < 50
            await credits.charge("usr_refund", 50, plan="free", kind="chat", ref=None, request_id=None)
        assert await spend.spent(["key_r"], at=utcnow()) == {"key_r": (0, 0)}
    finally:
        key_limits.reset(token)
