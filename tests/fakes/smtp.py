"""A local SMTP server (aiosmtpd) that keeps every message it receives, for the SMTP adapter's tests."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Keeper:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append((envelope, message_from_bytes(envelope.content)))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class FakeSmtpServer:
    """`with FakeSmtpServer() as smtp:` serves on smtp.url; smtp.messages holds (envelope, message)."""

    def __init__(self) -> None:
        self._keeper = _Keeper()
        self.port = _free_port()
        self._controller = Controller(self._keeper, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[tuple[Envelope, Message]]:
        return self._keeper.messages

    def __enter__(self) -> FakeSmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
