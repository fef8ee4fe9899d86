"""The email port: how services send mail (SMTP in production, an outbox in development)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One plain-text message to one recipient."""

    to: str
    subject: str
    text: str


@dataclass(frozen=True, slots=True)
class SentEmail:
    """A message as the development outbox keeps it."""

    id: str
    to: str
    sender: str
    subject: str
    text: str
    sent_at: datetime


class EmailSender(Protocol):
    """Delivers a message (raises on failure; callers decide whether that matters)."""

    async def send(self, message: EmailMessage) -> None: ...


class Outbox(Protocol):
    """Mail kept instead of delivered (development): newest first."""

    async def list(self, *, limit: int = 50) -> list[SentEmail]: ...
