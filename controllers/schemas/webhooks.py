"""The events the payment processors and Clerk deliver to Muse's webhooks (contract §§6, 8, 14).

Documentation of what a delivery carries, not a request body Muse validates: a webhook reads its
bytes itself and trusts them only when the processor's signature over them verifies (a required
header of each route), so a processor's new fields are kept, not refused (`extra="allow"`). The
fields named here are the ones Muse reads; an event of a type it does not handle is acknowledged
(200) and ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_ID = Field(min_length=1, max_length=255)


class Delivery(BaseModel):
    """A signed delivery: the sender's other fields are kept as sent."""

    model_config = ConfigDict(extra="allow")


class StripeEventData(Delivery):
    object: dict[str, Any] = Field(description="The Stripe object the event is about.")


class StripeEvent(Delivery):
    """A Stripe event (`Stripe-Signature` signs these bytes)."""

    id: str = _ID
    type: str = Field(min_length=1, max_length=255, description="e.g. `checkout.session.completed`.")
    data: StripeEventData


class PayPalEvent(Delivery):
    """A PayPal webhook event (PayPal verifies the transmission headers with these bytes)."""

    id: str = _ID
    event_type: str = Field(min_length=1, max_length=255, description="e.g. `PAYMENT.CAPTURE.COMPLETED`.")
    resource: dict[str, Any] = Field(description="The PayPal resource the event is about.")


class ClerkEvent(Delivery):
    """A Clerk user event sent through Svix (`svix-signature` signs `id.timestamp.` and these bytes)."""

    type: str = Field(min_length=1, max_length=255,
                      description="`user.created`, `user.updated`, `user.deleted`.")
    object: Literal["event"] = "event"
    data: dict[str, Any] = Field(description="The Clerk user (`id`, `email_addresses`, names, `image_url`).")
