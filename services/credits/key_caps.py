"""An API key's credit caps (contract §19): a charge through a key reserves its amount against them first."""

from __future__ import annotations

from datetime import datetime

from services.credits.model import Op
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


async def release_key_spend(key_spend: KeySpend | None, charge: Op) -> None:
    """Give a refunded charge's amount back to the caps of the API key it was made through, if any."""
    key_id = charge.meta.get("api_key_id")
    if not key_id or key_spend is None:
        return
    spent_at = charge.meta.get("spend_at")
    at = datetime.fromisoformat(spent_at.replace("Z", "+00:00")) if isinstance(spent_at, str) else charge.at
    await key_spend.release(str(key_id), -charge.delta, at=at)
