"""Providers: every external SDK call (AI, storage, payments, identity)."""
