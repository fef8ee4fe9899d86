"""Processor customers: one per user and processor, created on first use and reused after.

Creation is idempotent at the processor (`customer-<user id>` request id) and the store keeps the
first id written, so concurrent first checkouts of one user end with one customer.
"""

from __future__ import annotations

from services.payments.ports import CustomerRepository, PaymentsProvider


class PaymentCustomers:
    """Finds or creates a user's customer record at a processor."""

    def __init__(self, customers: CustomerRepository) -> None:
        self._customers = customers

    async def get(self, user_id: str, provider: str) -> str | None:
        """The stored customer id of the user at `provider`, if any."""
        return await self._customers.get(user_id, provider)

    async def ensure(self, provider: PaymentsProvider, user_id: str) -> str | None:
        """The user's customer id at `provider`, created once (None: the processor has no customers)."""
        existing = await self._customers.get(user_id, provider.name)
        if existing:
            return existing
        created = await provider.create_customer(user_id=user_id, request_id=f"customer-{user_id}")
        if created is None:
            return None
        return await self._customers.add(user_id, provider.name, created)
