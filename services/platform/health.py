"""Readiness checks of the dependencies (each timed, run concurrently)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Check = Callable[[], Awaitable[Any]]


@dataclass
class CheckResult:
    status: str
    latency_ms: float
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class HealthReport:
    status: str
    version: str
    checks: dict[str, CheckResult]

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class HealthService:
    """Runs every check with a timeout; one failing check makes the report `degraded`."""

    def __init__(self, checks: Mapping[str, Check], *, version: str, timeout_s: float = 2.0) -> None:
        self._checks, self._version, self._timeout = dict(checks), version, timeout_s

    @property
    def version(self) -> str:
        """The version reported by readiness."""
        return self._version

    async def _run(self, check: Check) -> CheckResult:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                value = await check()
        except TimeoutError:
            return CheckResult("down", self._ms(started), error="timeout")
        except Exception as exc:  # a check fails with whatever its driver raises
            return CheckResult("down", self._ms(started), error=type(exc).__name__)
        info = value if isinstance(value, dict) else {}
        return CheckResult("ok", self._ms(started), info=info)

    @staticmethod
    def _ms(started: float) -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    async def report(self) -> HealthReport:
        """Check every dependency concurrently."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run(self._checks[n]) for n in names))
        checks = dict(zip(names, results, strict=True))
        status = "ok" if all(r.status == "ok" for r in results) else "degraded"
        return HealthReport(status, self._version, checks)
