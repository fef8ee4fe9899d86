"""The development outbox (contract §17): mail Muse would have sent, readable over HTTP."""

from __future__ import annotations

from typing import Any

from services.identity.ports.email import Outbox
from services.platform.clock import isoformat
from services.platform.errors import NotFound


class DevOutboxController:
    """Lists kept mail in development; 404 everywhere else."""

    def __init__(self, outbox: Outbox | None, *, enabled: bool) -> None:
        self._outbox, self._enabled = outbox, enabled

    async def list(self, limit: int = 50) -> dict[str, Any]:
        """The newest messages first."""
        if not self._enabled or self._outbox is None:
            raise NotFound()
        items = await self._outbox.list(limit=max(1, min(limit, 200)))
        return {"items": [{"id": m.id, "to": m.to, "sender": m.sender, "subject": m.subject,
                           "text": m.text, "sent_at": isoformat(m.sent_at)} for m in items]}
