"""The guards of the account update are enforced by the server, not only by the service's read."""

from __future__ import annotations

from datetime import timedelta

from services.credits.model import Change, Gift, Op, utc_day
from services.platform.clock import utcnow


def _op(user_id: str, key: str, **sources: int) -> Op:
    full = {"allowance": 0, "gift": 0, "balance": 0, **sources}
    return Op(id=key, key=key, user_id=user_id, kind="charge", at=utcnow(), delta=sum(full.values()),
              sources=full)


async def test_stale_splits_are_refused_by_the_server(container):
    accounts, now = container.credits.accounts, utcnow()
    await accounts.ensure("usr_guard")
    # balance guard: nothing to take
    assert await accounts.apply(_op("usr_guard", "k1", balance=-1),
                                Change(now=now, balance=-1, balance_guard=True)) is None
    # allowance: first use of the day (rollover from no day), then a cap of 25
    day = utc_day(now)
    after = await accounts.apply(_op("usr_guard", "k2", allowance=-25),
                                 Change(now=now, allowance=25, day=day, rollover=True, expect_day=None))
    assert after.allowance_day == day and after.allowance_used == 25
    assert await accounts.apply(_op("usr_guard", "k3", allowance=-1),
                                Change(now=now, allowance=1, day=day, used_cap=24)) is None
    # a second rollover from the old (missing) day loses
    assert await accounts.apply(_op("usr_guard", "k4", allowance=-1),
                                Change(now=now, allowance=1, day=day, rollover=True, expect_day=None)) is None
    # gift: set, drain guard, expiry guard
    gift = Gift(tier="gift_999", remaining=3, expires_at=now + timedelta(minutes=1))
    assert await accounts.apply(_op("usr_guard", "k5", gift=3), Change(now=now, gift_set=gift))
    assert await accounts.apply(_op("usr_guard", "k6", gift=-4),
                                Change(now=now, gift=-4, gift_guard=True)) is None
    later = now + timedelta(minutes=2)
    assert await accounts.apply(_op("usr_guard", "k7", gift=-1),
                                Change(now=later, gift=-1, gift_guard=True)) is None
    assert await accounts.apply(_op("usr_guard", "k8", gift=-3), Change(now=now, gift=-3, gift_guard=True))
    # the same op key cannot be parked twice
    assert await accounts.apply(_op("usr_guard", "k8", balance=1), Change(now=now, balance=1)) is None
    account = await accounts.get("usr_guard")
    assert account.gift.remaining == 0 and account.balance == 0 and set(account.pending) == {"k2", "k5", "k8"}
