"""Mail over SMTP with aiosmtplib (`SMTP_URL`: smtp://user:pass@host:587 or smtps://… for TLS)."""

from __future__ import annotations

from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from services.identity.ports.email import EmailMessage


class SmtpEmailSender:
    """Delivers each message in its own SMTP session (STARTTLS when the server offers it)."""

    def __init__(self, url: str, *, sender: str, timeout_s: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:port or smtps://…")
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._tls else 587)
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._sender, self._timeout = sender, timeout_s

    async def send(self, message: EmailMessage) -> None:
        """Send one plain-text message (raises aiosmtplib errors)."""
        import aiosmtplib  # here: most processes never send mail (start-up, issue 12)

        mime = MimeMessage()
        mime["From"], mime["To"], mime["Subject"] = self._sender, message.to, message.subject
        mime["Message-ID"] = make_msgid(domain="muse")
        mime.set_content(message.text)
        await aiosmtplib.send(
            mime, hostname=self._host, port=self._port, username=self._username, password=self._password,
            use_tls=self._tls, start_tls=None if not self._tls else False, timeout=self._timeout)
