"""Helpers for CLI commands that need a started container."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.bootstrap import Container
from app.config import load_settings
from app.logging import configure_logging
from services.errors import AppError

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


Command = Callable[[argparse.Namespace], int]


def json_command(fn: Callable[[argparse.Namespace], Any], *, prefix: str) -> Command:
    """A handler printing `fn(args)` as JSON (exit 0), or an AppError as `prefix: detail` (stderr, exit 1)."""

    def handler(args: argparse.Namespace) -> int:
        try:
            result = fn(args)
        except AppError as error:
            print(f"{prefix}: {error.detail or error.title}", file=sys.stderr)
            return 1
        print(json.dumps(result, indent=2, default=str))
        return 0

    return handler
