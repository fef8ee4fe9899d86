"""Ports of media."""
