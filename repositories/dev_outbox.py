"""The development outbox: mail kept in a capped Redis list instead of being delivered."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from services.identity.ports.email import EmailMessage, SentEmail
from services.platform.clock import isoformat, utcnow
from services.platform.ids import new_id

KEEP = 200
TTL_S = 7 * 24 * 3600


class RedisOutbox:
    """An EmailSender that keeps the last messages, readable by every process."""

    def __init__(self, redis: Any, *, key: str, sender: str) -> None:
        self._redis, self._key, self._sender = redis, key, sender

    async def send(self, message: EmailMessage) -> None:
        """Keep the message (newest first)."""
        entry = {"id": new_id("eml"), "to": message.to, "sender": self._sender, "subject": message.subject,
                 "text": message.text, "sent_at": isoformat(utcnow())}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self._key, json.dumps(entry))
            pipe.ltrim(self._key, 0, KEEP - 1)
            pipe.expire(self._key, TTL_S)
            await pipe.execute()

    async def list(self, *, limit: int = 50) -> list[SentEmail]:
        """The newest `limit` messages."""
        rows = await self._redis.lrange(self._key, 0, max(0, limit - 1))
        out = []
        for raw in rows:
            data = json.loads(raw)
            data["sent_at"] = datetime.fromisoformat(data["sent_at"].replace("Z", "+00:00"))
            out.append(SentEmail(**data))
        return out
