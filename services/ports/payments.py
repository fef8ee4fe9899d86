"""The payments provider port: what Muse needs from a payment processor (PayPal).

Amounts travel as decimal strings ("4.99") with an ISO currency code, exactly
as the processor reports them, so the service can compare them with the
catalogue without float rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from services.errors import PaymentRejected as PaymentRejected  # the port's refusal error


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    """One capture of an order (the money actually taken)."""

    id: str
    status: str  # COMPLETED, PENDING, DECLINED, REFUNDED, ...
    amount: str
    currency: str
    custom_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderInfo:
    """An Orders v2 order as Muse needs it."""

    id: str
    status: str  # CREATED, APPROVED, COMPLETED, VOIDED, ...
    approve_url: str | None = None
    custom_id: str | None = None
    amount: str | None = None
    currency: str | None = None
    captures: tuple[CaptureInfo, ...] = ()

    @property
    def capture(self) -> CaptureInfo | None:
        """The first capture, if any."""
        return self.captures[0] if self.captures else None


@dataclass(frozen=True, slots=True)
class SubscriptionInfo:
    """A Subscriptions v1 subscription as Muse needs it."""

    id: str
    status: str  # APPROVAL_PENDING, APPROVED, ACTIVE, SUSPENDED, CANCELLED, EXPIRED
    plan_id: str | None = None
    custom_id: str | None = None
    approve_url: str | None = None
    next_billing_time: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@runtime_checkable
class PaymentsProvider(Protocol):
    """Orders, subscriptions and webhook verification at the payment processor.

    Errors: `UpstreamTimeout` / `UpstreamRetryable` when the processor did not
    answer (safe to retry: create and capture carry a request id),
    `PaymentRejected` (see below) when it refused the operation,
    `NotFound` for an unknown order or subscription.
    """

    name: str

    async def create_order(
        self, *, payment_id: str, amount: str, currency: str, description: str,
        return_url: str, cancel_url: str, request_id: str,
    ) -> OrderInfo:
        """Create a CAPTURE-intent order whose custom_id is `payment_id`."""
        ...

    async def get_order(self, order_id: str) -> OrderInfo:
        """The current state of an order."""
        ...

    async def capture_order(self, order_id: str, *, request_id: str) -> OrderInfo:
        """Capture an approved order (idempotent for the same `request_id`)."""
        ...

    async def create_subscription(
        self, *, plan_id: str, custom_id: str, return_url: str, cancel_url: str, request_id: str,
    ) -> SubscriptionInfo:
        """Create a subscription the buyer approves at `approve_url`."""
        ...

    async def get_subscription(self, subscription_id: str) -> SubscriptionInfo:
        """The current state of a subscription."""
        ...

    async def cancel_subscription(self, subscription_id: str, *, reason: str) -> None:
        """Cancel a subscription (no-op when it is already cancelled)."""
        ...

    async def verify_webhook(self, *, headers: Mapping[str, str], event: dict[str, Any],
                             raw_body: bytes | None = None) -> bool:
        """True when the processor confirms the webhook's signature (`raw_body`: the bytes received)."""
        ...
