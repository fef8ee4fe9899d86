"""CLI command modules; each exposes `register(subparsers)`. Add new modules to the list."""

from __future__ import annotations

from types import ModuleType

from app.commands import admin, credits, migrate, token

COMMAND_MODULES: list[ModuleType] = [admin, token, credits, migrate]
