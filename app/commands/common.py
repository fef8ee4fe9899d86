"""Helpers for CLI commands that need a started container."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.bootstrap import Container
from app.config import load_settings
from app.logging import configure_logging

T = TypeVar("T")


def run_with_container(work: Callable[[Container], Awaitable[T]], **overrides: Any) -> T:
    """Start a container (no worker), run `work` with it, stop it."""
    settings = load_settings(worker_in_process=False, log_level="WARNING", **overrides)
    configure_logging(settings.log_level)

    async def main() -> T:
        container = Container(settings)
        await container.start()
        try:
            return await work(container)
        finally:
            await container.stop()

    return asyncio.run(main())
