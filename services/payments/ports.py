"""The payments port: what Muse needs from a payment processor, whichever it is.

Adapters: `providers/paypal.py`, `providers/stripe/`. A processor is one adapter implementing
`PaymentsProvider`, its webhook route and one factory in app/wiring/adapters.py; the services
(`PaymentProviders` in services/payments/providers.py) pick the adapter by name.
Ids the processor gives (checkout, capture, subscription, its plan ids) are "external ids".

Amounts travel as decimal strings ("4.99") with an ISO currency code, exactly
as the processor reports them, so the service can compare them with the
catalogue without float rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from services.payments.model import Payment, Refund, Subscription
from services.platform.errors import PaymentRejected as PaymentRejected  # the port's refusal error
from services.platform.principal import Role


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    """One capture of an order (the money actually taken)."""

    id: str
    status: str  # COMPLETED, PENDING, DECLINED, REFUNDED, ...
    amount: str
    currency: str
    custom_id: str | None = None


@dataclass(frozen=True, slots=True)
class Checkout:
    """A checkout (PayPal: an Orders v2 order) as Muse needs it; `id` is the processor's (external) id."""

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
    """A subscription at the processor as Muse needs it (`plan_id`: the processor's plan id)."""

    id: str
    status: str  # APPROVAL_PENDING, APPROVED, ACTIVE, SUSPENDED, CANCELLED, EXPIRED
    plan_id: str | None = None
    custom_id: str | None = None
    approve_url: str | None = None
    next_billing_time: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


# --- webhook events, as the processor's adapter translates them ------------------------------


@dataclass(frozen=True, slots=True)
class CaptureCompleted:
    """Money was captured (or is pending: `capture.status` PENDING) for a checkout."""

    capture: CaptureInfo
    checkout_id: str | None = None


@dataclass(frozen=True, slots=True)
class CaptureDenied:
    """The processor denied or declined a capture."""

    capture_id: str | None
    checkout_id: str | None = None
    custom_id: str | None = None


@dataclass(frozen=True, slots=True)
class CaptureRefunded:
    """A capture was refunded or reversed (fully or in part)."""

    refund_id: str
    capture_id: str | None
    amount: str
    currency: str
    custom_id: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionChanged:
    """A subscription's status changed (ACTIVE, CANCELLED, SUSPENDED, EXPIRED)."""

    external_id: str
    status: str
    custom_id: str | None = None
    next_billing_time: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionRenewed:
    """A subscription's period was paid (`custom_id`: our subscription id, when the processor says it)."""

    external_id: str
    custom_id: str | None = None


PaymentEvent = CaptureCompleted | CaptureDenied | CaptureRefunded | SubscriptionChanged | SubscriptionRenewed


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One verified delivery: its id (claimed once), the processor's event type and what it means
    for Muse (None: an event Muse does not act on)."""

    event_id: str
    event_type: str
    event: PaymentEvent | None


@runtime_checkable
class PaymentsProvider(Protocol):
    """Checkouts, captures, subscriptions and webhook verification at a payment processor.

    Errors: `UpstreamTimeout` / `UpstreamRetryable` when the processor did not
    answer (safe to retry: create and capture carry a request id),
    `PaymentRejected` (see below) when it refused the operation,
    `NotFound` for an unknown checkout or subscription.
    """

    name: str

    async def create_checkout(
        self, *, payment_id: str, amount: str, currency: str, description: str,
        return_url: str, cancel_url: str, request_id: str, customer_id: str | None = None,
    ) -> Checkout:
        """Create a checkout to capture once approved, tagged with `payment_id` (custom id).

        `return_url` / `cancel_url` are Muse's `/api/v1/payments/<name>/return|cancel` routes."""
        ...

    async def get_checkout(self, external_id: str) -> Checkout:
        """The current state of a checkout."""
        ...

    async def capture_checkout(self, external_id: str, *, request_id: str) -> Checkout:
        """Capture an approved checkout (idempotent for the same `request_id`)."""
        ...

    def external_plan_id(self, plan: str) -> str | None:
        """The processor's plan id for the catalogue plan `plan` (None: not sold through it)."""
        ...

    async def start_subscription(
        self, *, plan: str, custom_id: str, return_url: str, cancel_url: str, request_id: str,
        customer_id: str | None = None,
    ) -> SubscriptionInfo:
        """Start a subscription to the catalogue plan `plan`; the buyer approves it at `approve_url`."""
        ...

    async def get_subscription(self, subscription_id: str) -> SubscriptionInfo:
        """The current state of a subscription."""
        ...

    async def cancel_subscription(self, subscription_id: str, *, reason: str) -> None:
        """Cancel a subscription (no-op when it is already cancelled)."""
        ...

    async def create_customer(self, *, user_id: str, request_id: str) -> str | None:
        """The processor's customer record for a Muse user (None: the processor has no customers).

        Idempotent for the same `request_id`; Muse stores the id and reuses it."""
        ...

    async def portal_url(self, customer_id: str, *, return_url: str) -> str | None:
        """A self-service billing portal session for a customer (None: the processor has none)."""
        ...

    async def read_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        """Verify a webhook delivery with the processor and translate it into a neutral event.

        `InvalidWebhook` when the body is not an event or the processor does not vouch for it."""
        ...


# --- storage of payments, subscriptions (repositories/payments.py) and customers --------------


@runtime_checkable
class PaymentRepository(Protocol):
    """Storage of payments; every state change is one conditional single-document update."""

    async def create(self, payment: Payment) -> Payment: ...

    async def get(self, payment_id: str) -> Payment | None: ...

    async def get_by_external_id(self, provider: str, external_id: str) -> Payment | None: ...

    async def get_by_external_capture(self, provider: str, capture_id: str) -> Payment | None: ...

    async def update(self, payment_id: str, fields: dict[str, Any], *,
                     only_if_status: tuple[str, ...] | None = None) -> Payment | None: ...

    async def mark_credited(self, payment_id: str) -> None: ...

    async def add_refund(self, payment: Payment, refund: Refund, *, status: str) -> Payment | None: ...

    async def list_for_user(self, user_id: str, *, limit: int, cursor: str | None) -> list[Payment]: ...

    async def flag_account(self, user_id: str, *, reason: str, balance: int, ref: str) -> None: ...

    async def list_open(self, *, statuses: tuple[str, ...], created_before: datetime,
                        limit: int) -> list[Payment]: ...

    async def mark_reconciled(self, payment_id: str) -> None: ...


@runtime_checkable
class SubscriptionRepository(Protocol):
    """Storage of subscriptions."""

    async def create(self, sub: Subscription) -> Subscription: ...

    async def get(self, sub_id: str) -> Subscription | None: ...

    async def get_by_external_id(self, provider: str, external_id: str) -> Subscription | None: ...

    async def current_for_user(self, user_id: str) -> Subscription | None: ...

    async def update(self, sub_id: str, fields: dict[str, Any]) -> Subscription | None: ...

    async def count_active(self, user_id: str, *, excluding: str | None = None) -> int: ...

    async def list_for_user(self, user_id: str) -> list[Subscription]:
        """Every subscription of one user."""
        ...

    async def list_live_for_user(self, user_id: str) -> list[Subscription]:
        """Every live subscription of one user (pending checkouts included)."""
        ...

    async def list_live(self, *, limit: int, cursor: str | None) -> list[Subscription]:
        """Live subscriptions (LIVE_SUBSCRIPTION) that have a processor id, by id, after `cursor`."""
        ...


@runtime_checkable
class CustomerRepository(Protocol):
    """Storage of the processors' customer ids: one per (user, processor)."""

    async def get(self, user_id: str, provider: str) -> str | None: ...

    async def add(self, user_id: str, provider: str, external_id: str) -> str:
        """Store the customer id; when one is already stored (a race), that one is returned."""
        ...


class PlanHolder(Protocol):
    """What subscriptions read of a user."""

    plan: str
    role: Role


class Users(Protocol):
    """The part of the user service subscriptions use."""

    async def get(self, user_id: str) -> PlanHolder | None: ...

    async def set_plan(self, user_id: str, plan: str, *, role: Role | None = None) -> object: ...
