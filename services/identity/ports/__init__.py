"""Ports of identity."""
