"""Helpers for CLI commands that need a started container."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from app.config import load_settings
from app.logging import configure_logging
from app.wiring import Container
from services.platform.errors import AppError

T = TypeVar("T")


def run_with_container(work: Callable[[Container], Awaitable[T]], **overrides: Any) -> T:
    """Start a container (no worker), run `work` with it, stop it."""
    settings = load_settings(worker_in_process=False, log_level="WARNING", **overrides)
    configure_logging(settings.log_level, stream=sys.stderr)  # stdout is the command's answer (JSON)

    async def main() -> T:
        container = Container(settings)
        await container.start()
        try:
            return await work(container)
        finally:
            await container.stop()

    return asyncio.run(main())


Command = Callable[[argparse.Namespace], int]


def bounded_int(low: int = 1, high: int | None = None) -> Callable[[str], int]:
    """An argparse `type`: an integer in [low, high]; anything else is a usage error, not a traceback."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {raw!r}") from None
        if value < low or (high is not None and value > high):
            wanted = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {value}")
        return value

    return parse


def positive_float(raw: str) -> float:
    """An argparse `type`: a number > 0."""
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {raw}")
    return value


def non_negative_float(raw: str) -> float:
    """An argparse `type`: a number >= 0."""
    return 0.0 if raw.strip() in ("0", "0.0") else positive_float(raw)


def rfc3339(raw: str) -> datetime:
    """An argparse `type`: an RFC 3339 time (UTC when no offset is given)."""
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an RFC 3339 time, got {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def json_command(fn: Callable[[argparse.Namespace], Any], *, prefix: str) -> Command:
    """A handler printing `fn(args)` as JSON (exit 0), or an AppError as `prefix: detail` (stderr, exit 1)."""

    def handler(args: argparse.Namespace) -> int:
        try:
            result = fn(args)
        except AppError as error:
            print(f"{prefix}: {error.detail or error.title}", file=sys.stderr)
            return 1
        except ValueError as error:  # a value the domain refuses: a message, not a traceback
            print(f"{prefix}: {error}", file=sys.stderr)
            return 1
        print(json.dumps(result, indent=2, default=str))
        return 0

    return handler
