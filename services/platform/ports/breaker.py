"""The circuit breaker port: per-name failure counting shared by every process.

closed ──N consecutive failures──► open (skipped for a cool-down)
open ──cool-down over──► half_open: exactly one caller gets a trial call;
    success → closed, failure → open again. The Redis implementation is
`repositories/breaker.py`; the failover (`services/platform/failover.py`) is its user.
"""

from __future__ import annotations

from typing import Literal, Protocol, TypedDict, runtime_checkable

CircuitState = Literal["closed", "open", "half_open", "unknown"]  # unknown: the store did not answer


class BreakerState(TypedDict):
    """What admin stats show of one circuit."""

    state: CircuitState
    consecutive_failures: int
    calls: int
    failures: int
    open_until: str | None


@runtime_checkable
class CircuitBreaker(Protocol):
    """`allow(name)` before a call, then `record_success` / `record_failure`."""

    async def allow(self, name: str) -> bool:
        """True when a call may go to `name` now (closed, or this caller won the half-open trial)."""
        ...

    async def record_success(self, name: str) -> None:
        """A call succeeded: close the circuit."""
        ...

    async def record_failure(self, name: str) -> None:
        """A call failed: count it and open the circuit at the threshold."""
        ...

    async def state(self, name: str) -> BreakerState:
        """The circuit's state and counters."""
        ...
