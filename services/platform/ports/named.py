"""Anything with a provider name (chat, image and payment adapters): the unit of live switches,
circuits and failover."""

from __future__ import annotations

from typing import Protocol


class Named(Protocol):
    """Has a `name` (read-only is enough)."""

    @property
    def name(self) -> str: ...
