"""`python -m app admin promote|settings`: the CLI side of the admin console."""

from __future__ import annotations

import argparse
import getpass
from functools import partial
from typing import Any

from app.commands.common import json_command, run_with_container
from app.wiring import Container
from services.platform.errors import ValidationFailed
from services.platform.live_settings import FLAGS

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def cli_actor() -> str:
    """The audit actor of CLI changes."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (containers)
        return "cli"


def _parse_bool(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValidationFailed(f"{key}: expected true or false, got {raw!r}")


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """`key=value` pairs (`providers.NAME=false` for a provider) → a settings patch."""
    patch: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValidationFailed(f"{item!r}: expected key=value")
        if key in FLAGS:
            patch[key] = _parse_bool(key, raw)
        elif key == "signup_credits":
            try:
                patch[key] = int(raw)
            except ValueError as exc:
                raise ValidationFailed(f"signup_credits: expected an integer, got {raw!r}") from exc
        elif key.startswith("providers.") and key != "providers.":
            patch.setdefault("providers", {})[key.removeprefix("providers.")] = _parse_bool(key, raw)
        else:
            raise ValidationFailed(f"{key}: not a live setting")
    return patch


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    patch = parse_assignments(args.set or [])

    async def work(container: Container) -> dict[str, Any]:
        from controllers.admin_settings import settings_body

        service = container.platform.live_settings
        live = await service.update(patch, admin_id=cli_actor(), request_id=None) if patch \
            else await service.current()
        return settings_body(live)

    return run_with_container(work)


def _promote(args: argparse.Namespace) -> dict[str, Any]:
    from services.platform.principal import Role

    role = Role.parse(args.role)

    async def work(container: Container) -> dict[str, Any]:
        from services.admin.service import resolve_user

        user = await resolve_user(container.identity.users, args.user)
        user = await container.admin.service.update_user(user.id, role=role, admin_id=cli_actor(),
                                                         request_id=None)
        return {"id": user.id, "clerk_id": user.clerk_id, "email": user.email, "role": user.role.name}

    return run_with_container(work)


_run = partial(json_command, prefix="muse admin")  # a JSON-printing handler; errors as "muse admin: ..."


def register(subparsers: Any) -> None:
    """Add `admin promote` and `admin settings`."""
    admin = subparsers.add_parser("admin", help="administration: promote users, live settings")
    sub = admin.add_subparsers(dest="admin_command", required=True)
    promote = sub.add_parser("promote", help="give a user a role (default ADMIN)")
    promote.add_argument("user", help="a Muse user id (usr_...) or a Clerk user id (created if unknown)")
    promote.add_argument("--role", default="ADMIN", choices=["USER", "SUBSCRIBER", "ADMIN"])
    promote.set_defaults(handler=_run(_promote))
    settings = sub.add_parser("settings", help="show or change the live settings")
    settings.add_argument("--set", action="append", metavar="KEY=VALUE",
                          help="maintenance_mode|chat_enabled|images_enabled=true|false, "
                               "signup_credits=N, providers.NAME=true|false (repeatable)")
    settings.set_defaults(handler=_run(_settings))
