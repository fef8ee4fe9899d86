"""Pure credit rules: pot order, refunds across windows, gift extension, code format, catalogue parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.config import parse_plan_ids
from services.credits.gift_codes import ALPHABET, new_code, normalize
from services.credits.model import Account, Gift, Op, gift_change, refund_change, split_charge
from services.platform.catalog import Catalog
from services.platform.errors import InsufficientCredits

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_charge_takes_allowance_then_gift_then_balance():
    account = Account(user_id="u", balance=10, allowance_day="2026-03-01", allowance_used=20,
                      gift=Gift(tier="gift_999", remaining=3, expires_at=NOW + timedelta(days=1)))
    assert split_charge(account, 4, limit=25, now=NOW) == {"allowance": 4, "gift": 0, "balance": 0}
    assert split_charge(account, 10, limit=25, now=NOW) == {"allowance": 5, "gift": 3, "balance": 2}
    with pytest.raises(InsufficientCredits) as info:
        split_charge(account, 19, limit=25, now=NOW)
    assert info.value.extra == {"required": 19, "available": 18}


def test_yesterdays_usage_and_an_expired_gift_do_not_count():
    account = Account(user_id="u", balance=-5, allowance_day="2026-02-28", allowance_used=25,
                      gift=Gift(tier="gift_999", remaining=300, expires_at=NOW - timedelta(seconds=1)))
    assert account.spendable(25, NOW) == 25
    assert split_charge(account, 25, limit=25, now=NOW) == {"allowance": 25, "gift": 0, "balance": 0}


def test_a_refund_returns_what_is_still_open_and_forfeits_the_rest():
    charge = Op(id="led_1", key="led_1", user_id="u", kind="charge", at=NOW, delta=-6,
                sources={"allowance": -2, "gift": -3, "balance": -1}, meta={"allowance_day": "2026-03-01"})
    same_day = Account(user_id="u", allowance_day="2026-03-01", allowance_used=2,
                       gift=Gift(tier="g", remaining=0, expires_at=NOW + timedelta(days=1)))
    _, restored = refund_change(same_day, charge, now=NOW)
    assert restored == {"allowance": 2, "gift": 3, "balance": 1}
    next_day = Account(user_id="u", allowance_day="2026-03-02", allowance_used=0, gift=None)
    _, restored = refund_change(next_day, charge, now=NOW + timedelta(days=1))
    assert restored == {"allowance": 0, "gift": 0, "balance": 1}


def test_a_gift_on_an_active_gift_adds_credits_and_extends_from_the_current_expiry():
    active = Account(user_id="u", gift=Gift(tier="gift_999", remaining=100,
                                            expires_at=NOW + timedelta(days=5)))
    change = gift_change(active, tier="gift_1499", credits=1499, days=60, now=NOW)
    assert change.gift_set == Gift(tier="gift_1499", remaining=1599, expires_at=NOW + timedelta(days=65))
    lapsed = Account(user_id="u", gift=Gift(tier="gift_999", remaining=100,
                                            expires_at=NOW - timedelta(days=1)))
    change = gift_change(lapsed, tier="gift_999", credits=999, days=30, now=NOW)
    assert change.gift_set == Gift(tier="gift_999", remaining=999, expires_at=NOW + timedelta(days=30))


def test_codes_are_grouped_unambiguous_and_read_case_insensitively():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        groups = code.split("-")
        assert len(groups) == 4 and all(len(g) == 4 and set(g) <= set(ALPHABET) for g in groups)
    code = next(iter(codes))
    assert normalize(code.lower().replace("-", " ")) == code
    assert normalize("O0O0-1111-IIII-LLLL") is None and normalize("short") is None


def test_catalogue_maps_paypal_plan_ids_and_keeps_pack_prices_as_decimals():
    mapping = parse_plan_ids(["starter=P-1", "enterprise:P-2", "junk"])
    assert mapping == {"starter": "P-1", "enterprise": "P-2"}
    catalog = Catalog()
    assert [p.price for p in catalog.credit_packs] == ["4.99", "19.99", "69.99"]
    assert catalog.price("image", 4) == 4 and catalog.price("image_edit", 2) == 4
