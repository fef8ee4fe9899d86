"""Payments: orders, processors, webhooks, reconcile and subscriptions."""
