"""The enabled payment processors, in order of preference (`PAYMENT_PROVIDERS`), by name.

Every payments service looks its adapter up here: a checkout or subscription by the name the
client asked for (default: the first enabled), a stored payment by the name it was made with.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from services.payments.ports import PaymentsProvider
from services.platform.errors import FeatureDisabled


class PaymentProviders:
    """An ordered, read-only set of payment adapters."""

    def __init__(self, providers: Sequence[PaymentsProvider] = ()) -> None:
        self._by_name = {p.name: p for p in providers}

    @property
    def names(self) -> list[str]:
        """The enabled processors' names, preferred first."""
        return list(self._by_name)

    @property
    def enabled(self) -> bool:
        """Whether any processor is configured."""
        return bool(self._by_name)

    def __iter__(self) -> Iterator[PaymentsProvider]:
        return iter(self._by_name.values())

    def find(self, name: str | None) -> PaymentsProvider | None:
        """The adapter called `name`, or None when it is not enabled."""
        return self._by_name.get(name or "")

    def get(self, name: str | None = None) -> PaymentsProvider:
        """The adapter called `name` (None: the preferred one); 503 when it is not configured."""
        provider = self.find(name) if name else next(iter(self._by_name.values()), None)
        if provider is None:
            what = f"Payments through {name}" if name else "Payments"
            raise FeatureDisabled(f"{what} are not configured.")
        return provider
