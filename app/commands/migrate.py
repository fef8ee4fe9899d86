"""`python -m app migrate`: apply the stored-data migrations (idempotent; `make run` runs it first)."""

from __future__ import annotations

import argparse
from typing import Any

from app.commands.common import json_command, run_with_container
from repositories.migrations import migrate


def _migrate(args: argparse.Namespace) -> Any:
    async def work(container: Any) -> Any:
        return await migrate(container.platform.database.db)

    return run_with_container(work)


def register(sub: Any) -> None:
    """Add the `migrate` command."""
    parser = sub.add_parser("migrate", help="apply stored-data migrations (idempotent)")
    parser.set_defaults(handler=json_command(_migrate, prefix="migrate"))
