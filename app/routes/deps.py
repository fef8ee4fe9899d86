"""How routes reach the container (and through it, the controllers)."""

from __future__ import annotations

from typing import cast

from quart import current_app

from app.speedups import MuseQuart
from app.wiring import Container


def container() -> Container:
    """The container of the running app (its parts: `container().chat.controller`, ...)."""
    return cast(MuseQuart, current_app).container
