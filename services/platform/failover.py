"""The one failover mechanism: ordered providers, live switches, circuit breaker, time budget, error mapping.

    result = await Failover(label="chat", providers=chain, breaker=breaker, ...).run(call)

`providers()` gives the ordered chain with the providers switched off in live
settings already left out. Each provider whose circuit is open is skipped
without a call; every call's outcome is recorded on the breaker (under
`breaker_name(provider.name)`). `call(provider, timeout)` gets the seconds it
may take: `per_call_s`, or with a `budget_s` its share of what is left of the
budget (`left / providers still to try`), enforced here too. An exception of
`failure_types` (or the share running out) moves on to the next provider; any
other exception propagates at once. When no provider answered, `on_exhausted`
turns the failures into the error the caller raises (see `chain_error`).

Used by chat (complete), chat streaming (up to the first delta), describe
(vision) and image jobs; a new kind of generation (video) is one more user.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog

from services.platform.errors import AppError, UpstreamError, UpstreamTimeout
from services.platform.ports.breaker import CircuitBreaker
from services.platform.ports.named import Named

log = structlog.stdlib.get_logger("muse.failover")


P = TypeVar("P", bound=Named)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Failure:
    """One provider that did not answer."""

    provider: str
    error: BaseException
    timed_out: bool


ErrorMapping = Callable[[Sequence[Failure]], AppError]


def chain_error(failures: Sequence[Failure]) -> AppError:
    """The default mapping: 504 `provider_timeout` when every tried provider timed out, else 502."""
    if failures and all(f.timed_out for f in failures):
        return UpstreamTimeout()
    return UpstreamError()


def same_name(name: str) -> str:
    """The default breaker name of a provider: its own name."""
    return name


class Failover(Generic[P]):
    """Tries `providers()` in order until one answers; see the module docstring."""

    def __init__(
        self,
        *,
        label: str,
        providers: Callable[[], Awaitable[Sequence[P]]],
        breaker: CircuitBreaker | None,
        failure_types: tuple[type[BaseException], ...],
        is_timeout: Callable[[BaseException], bool],
        per_call_s: float,
        budget_s: float | None = None,
        breaker_name: Callable[[str], str] = same_name,
        on_exhausted: ErrorMapping = chain_error,
    ) -> None:
        self.label = label
        self._providers = providers
        self._breaker = breaker
        self._failure_types = failure_types
        self._is_timeout = is_timeout
        self.per_call_s = per_call_s
        self.budget_s = budget_s
        self._breaker_name = breaker_name
        self._on_exhausted = on_exhausted

    async def chain(self) -> list[P]:
        """The providers in order, without those switched off."""
        return list(await self._providers())

    async def run(
        self,
        call: Callable[[P, float], Awaitable[T]],
        *,
        only: Callable[[P], bool] | None = None,
        record_success: bool = True,
        on_exhausted: ErrorMapping | None = None,
    ) -> tuple[P, T]:
        """(provider, result) of the first provider that answered; `on_exhausted`'s error otherwise.

        `only` narrows the chain (e.g. providers that can edit); `record_success=False` leaves
        the success to the caller (`succeeded`), e.g. a stream that may still break."""
        chain = [p for p in await self.chain() if only is None or only(p)]
        deadline = time.monotonic() + self.budget_s if self.budget_s is not None else None
        failures: list[Failure] = []
        for index, provider in enumerate(chain):
            timeout = self.per_call_s
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                timeout = left / (len(chain) - index)
            if not await self.allow(provider):
                continue
            try:
                if deadline is not None:
                    async with asyncio.timeout(timeout):
                        result = await call(provider, timeout)
                else:
                    result = await call(provider, timeout)
            except TimeoutError as exc:
                if deadline is None and not isinstance(exc, self._failure_types):
                    raise
                failures.append(Failure(provider.name, UpstreamTimeout(
                    f"{provider.name}: no answer within {timeout:.0f}s"), timed_out=True))
            except self._failure_types as exc:
                failures.append(Failure(provider.name, exc, timed_out=self._is_timeout(exc)))
            else:
                if record_success:
                    await self.succeeded(provider)
                return provider, result
            await self.failed(provider, failures[-1])
        raise (on_exhausted or self._on_exhausted)(failures)

    async def allow(self, provider: P) -> bool:
        """Whether `provider` may be called now (its circuit is not open)."""
        if self._breaker is None or await self._breaker.allow(self._breaker_name(provider.name)):
            return True
        log.info(f"{self.label}_provider_skipped", provider=provider.name, reason="circuit_open")
        return False

    async def succeeded(self, provider: P) -> None:
        """Record a success (closes the circuit)."""
        if self._breaker is not None:
            await self._breaker.record_success(self._breaker_name(provider.name))

    async def failed(self, provider: P, failure: Failure) -> None:
        """Record a failure (counts towards opening the circuit) and log it."""
        if self._breaker is not None:
            await self._breaker.record_failure(self._breaker_name(provider.name))
        error = failure.error
        detail = error.detail if isinstance(error, AppError) else str(error)
        log.warning(f"{self.label}_provider_failed", provider=provider.name, timeout=failure.timed_out,
                    status=getattr(error, "status", None), error=str(detail))
