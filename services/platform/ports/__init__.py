"""Ports of the shared kernel."""
