"""Payment routes (contract §6): checkout, PayPal returns, mobile capture, history."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import validate_querystring, validate_request, validate_response

from app.openapi import answers, problems
from app.routes.deps import container
from controllers.schemas.payments import (
    CaptureOut,
    CheckoutIn,
    CheckoutOut,
    ListQuery,
    PaymentListOut,
    ReturnQuery,
)
from middlewares.access import public, require_role
from middlewares.idempotency import idempotent
from middlewares.policy import policy
from middlewares.query import foreign_query
from services.platform.principal import Role

bp = Blueprint("payments", __name__)


@bp.post("/api/v1/payments/checkout")
@require_role(Role.USER)
@policy()
@problems(502, 503, 504)
@idempotent
@validate_request(CheckoutIn)
@validate_response(CheckoutOut, 201)
async def checkout(data: CheckoutIn):
    """Start buying a credit pack: creates a PayPal order and returns its approve URL.

    The price comes from the catalogue, never from the client. Accepts `Idempotency-Key`."""
    return await container().payments.controller.checkout(g.principal, data)


@bp.get("/api/v1/payments/paypal/return")
@public
@policy()
@answers(303, description="To CHECKOUT_SUCCESS_URL (or the cancel URL on failure).", headers=("Location",),
         media="")


@foreign_query  # PayPal sends the buyer here and appends its own parameters
@validate_querystring(ReturnQuery)
async def paypal_return(query_args: ReturnQuery):
    """PayPal sends the buyer here after approval: capture, credit once, 303 to the success URL.

    Any failure sends the buyer to CHECKOUT_CANCEL_URL instead."""
    return await container().payments.controller.paypal_return(query_args)


@bp.get("/api/v1/payments/paypal/cancel")
@public
@policy()
@answers(303, description="To CHECKOUT_CANCEL_URL.", headers=("Location",), media="")
@foreign_query  # PayPal sends the buyer here and appends its own parameters
@validate_querystring(ReturnQuery)
async def paypal_cancel(query_args: ReturnQuery):
    """PayPal sends the buyer here after cancelling: mark it cancelled, 303 to the cancel URL."""
    return await container().payments.controller.paypal_cancel(query_args)


@bp.post("/api/v1/payments/<payment_id>/capture")
@require_role(Role.USER)
@policy()
@problems(402, 502, 503, 504)
@idempotent
@validate_response(CaptureOut)
async def capture(payment_id: str):
    """Capture an approved payment (mobile clients); credits the pack exactly once.

    A 503/504 means PayPal did not answer: retry, it is safe. Status PENDING: PayPal holds the
    money; it is credited once when PayPal completes it. 402 `payment_declined`: PayPal declined
    the capture; the payment is DENIED for good (start a new checkout). Accepts `Idempotency-Key`."""
    return await container().payments.controller.capture(g.principal, payment_id)


@bp.get("/api/v1/payments")
@require_role(Role.USER)
@policy()
@validate_querystring(ListQuery)
@validate_response(PaymentListOut)
async def list_payments(query_args: ListQuery):
    """The caller's payment history, newest first."""
    return await container().payments.controller.history(g.principal, query_args)
