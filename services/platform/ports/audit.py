"""The audit log port: every admin change is recorded (`repositories/audit_log.py`)."""

from __future__ import annotations

import builtins
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class AuditRecorder(Protocol):
    """Records one change."""

    async def record(self, *, actor_id: str, action: str, target: str | None, before: dict[str, Any],
                     after: dict[str, Any], request_id: str | None, ip: str | None = None) -> str: ...


@runtime_checkable
class AuditLog(AuditRecorder, Protocol):
    """Records changes and lists them, newest first."""

    async def list(self, *, action: str | None = None, target: str | None = None, limit: int = 20,
                   cursor: str | None = None) -> builtins.list[dict[str, Any]]: ...
