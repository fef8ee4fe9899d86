"""An API key's credit caps (contract §19): a charge through a key reserves its amount against them first."""

from __future__ import annotations

from datetime import datetime

from services.credits.ports import KeySpend
from services.platform import key_limits
from services.platform.clock import isoformat, utcnow
from services.platform.errors import ApiKeyCapReached


async def reserve_key_spend(key_spend: KeySpend | None, key: key_limits.KeyLimits,
                            amount: int) -> datetime | None:
    """Count `amount` against the key's caps (the time counted at; None without a spend store), or 429
    `api_key_cap_reached`."""
    if key_spend is None:
        return None
    now = utcnow()
    refused = await key_spend.reserve(key.key_id, amount, at=now, daily_cap=key.daily_credit_cap,
                                      monthly_cap=key.monthly_credit_cap)
    if refused is None:
        return now
    cap = key.daily_credit_cap if refused == "day" else key.monthly_credit_cap
    until = key_limits.next_day(now) if refused == "day" else key_limits.next_month(now)
    period = "today (UTC)" if refused == "day" else "this month (UTC)"
    raise ApiKeyCapReached(
        f"This API key's {'daily' if refused == 'day' else 'monthly'} cap of {cap} credits is reached "
        f"{period}; this request costs {amount}.",
        headers={"Retry-After": str(max(1, int((until - now).total_seconds()) + 1))},
        cap=refused, limit=cap, resets_at=isoformat(until))
