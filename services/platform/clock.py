"""The one clock of Muse (tests move it by setting `clock.offset`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """UTC wall clock with an adjustable offset for time-travel tests."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


clock = Clock()


def utcnow() -> datetime:
    """Current UTC time (timezone-aware)."""
    return clock.now()


def isoformat(value: datetime | None) -> str | None:
    """RFC 3339 UTC string with a `Z` suffix."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
