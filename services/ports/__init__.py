"""Ports: every collaborator a service needs, as a `typing.Protocol`, one module per area.

Repositories and providers implement them; services depend only on them.
"""
