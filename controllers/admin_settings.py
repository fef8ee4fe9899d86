"""Admin live settings and audit log: HTTP ⇄ LiveSettingsService."""

from __future__ import annotations

from typing import Any, Protocol

from quart import g

from controllers.schemas.admin import AuditQuery, LiveSettingsPatch
from middlewares.request_id import current_request_id
from services.platform.clock import isoformat
from services.platform.errors import Unauthorized
from services.platform.live_settings import LiveSettings, LiveSettingsService


class AuditReader(Protocol):
    async def audit_entries(self, *, action: str | None, target: str | None, limit: int,
                            cursor: str | None) -> tuple[list[dict[str, Any]], str | None]: ...


def admin_id() -> str:
    """The acting admin's user id (the access middleware has checked the role)."""
    principal = g.get("principal")
    if principal is None or not principal.is_authenticated:
        raise Unauthorized()
    return principal.user_id or principal.rate_key


def actor_ip() -> str | None:
    """The acting admin's address after trusted proxies (recorded in the audit log)."""
    principal = g.get("principal")
    return principal.client_ip if principal is not None else None


def settings_body(live: LiveSettings) -> dict[str, Any]:
    """The JSON shape of the live settings."""
    return {**live.editable(), "version": live.version, "updated_at": isoformat(live.updated_at),
            "updated_by": live.updated_by}


class AdminSettingsController:
    def __init__(self, live_settings: LiveSettingsService, audit: AuditReader) -> None:
        self._live, self._audit = live_settings, audit

    async def get(self) -> dict[str, Any]:
        """The live settings as every process will see them within seconds."""
        return settings_body(await self._live.current())

    async def update(self, patch: LiveSettingsPatch) -> dict[str, Any]:
        """Apply a partial change (audited) and return the new settings."""
        changes = patch.model_dump(exclude_none=True)
        if patch.provider_prices is not None:  # a null model drops its live price: keep it as None
            changes["provider_prices"] = {m: p.model_dump(exclude_none=True) if p is not None else None
                                          for m, p in patch.provider_prices.items()}
        live = await self._live.update(changes, admin_id=admin_id(), request_id=current_request_id(),
                                       ip=actor_ip())
        return settings_body(live)

    async def audit_log(self, query: AuditQuery) -> dict[str, Any]:
        """A page of audit entries, newest first."""
        rows, cursor = await self._audit.audit_entries(action=query.action, target=query.target,
                                                       limit=query.limit, cursor=query.cursor)
        return {"items": [{**row, "at": isoformat(row["at"])} for row in rows], "next_cursor": cursor}
