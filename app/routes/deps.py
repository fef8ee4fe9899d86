"""How routes reach the container (and through it, the controllers)."""

from __future__ import annotations

from quart import current_app

from app.wiring import Container


def container() -> Container:
    """The container of the running app."""
    return current_app.extensions["container"]
