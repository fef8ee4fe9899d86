"""Usage per user (contract §19): what each ledger entry adds to the daily usage rollup, and the
report read from it.

The rollup (`usage_daily`) holds one document per user and UTC day, with flat counters for the
day's total and per kind, model and API key (`fields`), so a report of any grouping over a year
reads at most 366 documents. It is maintained as ledger entries land, never by scanning the
ledger on a request: `contribution` says what one entry adds, so the rollup is, by
construction, the sum of `contribution` over the ledger. Only charges and refunds count; a
refund is counted on the day, kind, model and key of the charge it gives back (its entry records
them, with the amount), so a day's credits are net of the refunds of that day's requests
whenever the refund lands.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from services.credits.model import Op, utc_day
from services.credits.ports import UsageRollup
from services.platform.clock import utcnow
from services.platform.errors import ValidationFailed

GroupBy = Literal["day", "kind", "model", "api_key"]
GROUPS: tuple[str, ...] = ("day", "kind", "model", "api_key")
COUNTERS: tuple[str, ...] = ("requests", "credits", "refunded_credits", "tokens_in", "tokens_out",
                             "images", "video_seconds")
KINDS = ("chat", "image", "image_edit", "image_describe", "video", "embedding")
MAX_DAYS = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class Bucket:
    """One row of the rollup: a user's usage of one kind, model and API key on one UTC day."""

    user_id: str
    day: str
    kind: str
    model: str = ""  # "" when the entry names none
    api_key: str = ""  # "" for sessions (not an API key)

    @property
    def id(self) -> str:
        """The rollup document it belongs to: one per user and day."""
        return f"{self.user_id}|{self.day}"


DIMENSIONS = {"kind": "kind", "model": "model", "api_key": "key"}  # group_by → field prefix


def _escape(value: str) -> str:
    """A value safe inside a field name (no `.`, `$` or `|`)."""
    return value.replace("%", "%25").replace(".", "%2E").replace("$", "%24").replace("|", "%7C")


def _unescape(value: str) -> str:
    return value.replace("%7C", "|").replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def fields(bucket: Bucket, inc: dict[str, int]) -> dict[str, int]:
    """The flat counters of a day's document that `inc` adds to: `t|<counter>` (the day's total) and
    `<kind|model|key>|<value>|<counter>` for each grouping."""
    out: dict[str, int] = {}
    values = {"kind": bucket.kind, "model": bucket.model, "key": bucket.api_key}
    for name, amount in inc.items():
        out[f"t|{name}"] = out.get(f"t|{name}", 0) + amount
        for prefix, value in values.items():
            field_name = f"{prefix}|{_escape(value)}|{name}"
            out[field_name] = out.get(field_name, 0) + amount
    return out


def rolls_up(op: Op) -> bool:
    """Whether a ledger entry counts as usage (charges and refunds)."""
    return op.kind in ("charge", "refund")


def contribution(op: Op) -> tuple[Bucket, dict[str, int]] | None:
    """The rollup row a ledger entry adds to, and what it adds; None for entries that are not usage."""
    if op.kind == "charge":
        meta = op.meta
        bucket = Bucket(op.user_id, utc_day(op.at), str(meta.get("item") or "unknown"),
                        str(meta.get("model") or ""), str(meta.get("api_key_id") or ""))
        units = meta.get("units") or {}
        inc = {"requests": 1, "credits": -op.delta}
        inc.update({k: int(v) for k, v in units.items() if k in COUNTERS and v})
        return bucket, inc
    if op.kind == "refund":
        charge = op.meta.get("charge") or {}
        at = charge.get("at")
        day = at[:10] if isinstance(at, str) and len(at) >= 10 else utc_day(op.at)
        amount = int(charge.get("amount", op.delta))
        bucket = Bucket(op.user_id, day, str(charge.get("item") or "unknown"), str(charge.get("model") or ""),
                        str(charge.get("api_key_id") or ""))
        return bucket, {"credits": -amount, "refunded_credits": amount}
    return None


@dataclass(slots=True)
class UsageReport:
    """`GET /api/v1/usage`: rows grouped by one dimension, and their totals."""

    first: str
    last: str
    group_by: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.first, "to": self.last, "group_by": self.group_by, "rows": self.rows,
                "totals": self.totals}

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["key", *COUNTERS])
        for row in self.rows:
            writer.writerow([row["key"] if row["key"] is not None else "", *(row[c] for c in COUNTERS)])
        return out.getvalue()


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{name} must be a date YYYY-MM-DD.",
                               errors=[{"loc": ["query", name], "msg": "a date YYYY-MM-DD"}]) from None


def period(first: str | None, last: str | None) -> tuple[str, str]:
    """The UTC days asked for (default: the last 30 days to today); 422 when reversed or > 366 days."""
    today = utcnow().date()
    end = _day(last, "to") or today
    start = _day(first, "from") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValidationFailed("from is after to.", errors=[{"loc": ["query", "from"], "msg": "after to"}])
    if (end - start).days + 1 > MAX_DAYS:
        msg = f"at most {MAX_DAYS} days from `from`"
        raise ValidationFailed(f"At most {MAX_DAYS} days at a time.",
                               errors=[{"loc": ["query", "to"], "msg": msg}])
    return start.isoformat(), end.isoformat()


def report(rows: list[dict[str, Any]], *, first: str, last: str, group_by: str) -> UsageReport:
    """Group the day documents by `group_by` (days ascending; other keys by credits, descending)."""
    if group_by not in GROUPS:
        raise ValidationFailed(f"group_by is one of {', '.join(GROUPS)}.",
                               errors=[{"loc": ["query", "group_by"], "msg": f"one of {list(GROUPS)}"}])
    grouped: dict[str, dict[str, int]] = {}
    totals = dict.fromkeys(COUNTERS, 0)
    prefix = DIMENSIONS.get(group_by)
    for row in rows:
        for name, value in row.items():
            parts = name.split("|")
            if parts[0] == "t" and len(parts) == 2 and parts[1] in totals:
                totals[parts[1]] += int(value or 0)
                if group_by == "day":
                    acc = grouped.setdefault(str(row["day"]), dict.fromkeys(COUNTERS, 0))
                    acc[parts[1]] += int(value or 0)
            elif prefix is not None and parts[0] == prefix and len(parts) == 3 and parts[2] in totals:
                acc = grouped.setdefault(_unescape(parts[1]), dict.fromkeys(COUNTERS, 0))
                acc[parts[2]] += int(value or 0)
    keys = sorted(grouped) if group_by == "day" else \
        sorted(grouped, key=lambda k: (-grouped[k]["credits"], k))
    out = [{"key": key or None, **grouped[key]} for key in keys]
    return UsageReport(first=first, last=last, group_by=group_by, rows=out, totals=totals)


class UsageService:
    """The caller's usage report, from the rollup (one index-backed read)."""

    def __init__(self, rollup: UsageRollup,
                 settle: Callable[[], Awaitable[None]] | None = None) -> None:
        self._rollup = rollup
        self._settle = settle  # waits for this process's batched ledger entries (and their rollup)

    async def usage(self, user_id: str, *, first: str | None, last: str | None,
                    group_by: str | None) -> UsageReport:
        start, end = period(first, last)
        if self._settle is not None:
            await self._settle()
        rows = await self._rollup.rows(user_id, first=start, last=end)
        return report(rows, first=start, last=end, group_by=group_by or "day")
