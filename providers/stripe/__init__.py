"""Stripe adapter of the payments port: Checkout Sessions, customers, the billing portal and
signed webhooks through the official `stripe` SDK (async methods, httpx transport)."""

from providers.stripe.adapter import StripePayments

__all__ = ["StripePayments"]
