"""The SMTP adapter (aiosmtplib) against a real local SMTP server (aiosmtpd), and the mail of a
registration arriving there through the whole app."""

from __future__ import annotations

import asyncio

import pytest

from app import create_app
from providers.smtp_email import SmtpEmailSender
from services.identity.ports.email import EmailMessage
from tests.fakes.smtp import FakeSmtpServer
from tests.fixtures.accounts import PASSWORD, local_settings_for


async def _received(smtp: FakeSmtpServer, count: int = 1, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while len(smtp.messages) < count:
        assert asyncio.get_running_loop().time() < deadline, "the SMTP server received nothing"
        await asyncio.sleep(0.02)


async def test_the_smtp_sender_delivers_a_plain_text_message():
    with FakeSmtpServer() as smtp:
        sender = SmtpEmailSender(smtp.url, sender="Muse <no-reply@muse.test>")
        await sender.send(EmailMessage("ann@example.com", "Hello", "Plain text body, with ünïcödé.\n"))
    envelope, message = smtp.messages[0]
    assert envelope.mail_from == "no-reply@muse.test" and envelope.rcpt_tos == ["ann@example.com"]
    assert message["Subject"] == "Hello" and message["To"] == "ann@example.com"
    assert message["From"] == "Muse <no-reply@muse.test>" and message["Message-ID"]
    assert message.get_content_type() == "text/plain"
    assert "ünïcödé" in message.get_payload(decode=True).decode("utf-8")


async def test_an_unreachable_server_raises_so_the_caller_can_log_it():
    with FakeSmtpServer() as smtp:
        url = smtp.url
    sender = SmtpEmailSender(url, sender="no-reply@muse.test", timeout_s=2)
    with pytest.raises(OSError):
        await sender.send(EmailMessage("ann@example.com", "Hello", "body"))


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_a_malformed_smtp_url_is_refused(url):
    with pytest.raises(ValueError):
        SmtpEmailSender(url, sender="no-reply@muse.test")


async def test_registration_mail_goes_out_over_smtp_and_its_token_verifies(servers, tmp_path):
    with FakeSmtpServer() as smtp:
        settings = local_settings_for(servers, tmp_path, smtp_url=smtp.url, mail_from="Muse <hi@muse.test>")
        app = create_app(settings)
        async with app.test_app():
            client = app.test_client()
            created = await client.post("/api/v1/auth/register",
                                        json={"email": "bea@example.com", "password": PASSWORD})
            assert created.status_code == 201
            await _received(smtp)
            envelope, message = smtp.messages[0]
            text = message.get_payload(decode=True).decode()
            token = text.split("token=", 1)[1].split()[0]
            verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
            assert app.extensions["container"].identity.outbox is None  # nothing kept when SMTP is configured
            await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert envelope.rcpt_tos == ["bea@example.com"] and message["From"] == "Muse <hi@muse.test>"
    assert verified.status_code == 200 and (await verified.get_json())["email_verified"] is True


async def test_registration_succeeds_when_the_mail_server_is_down(servers, tmp_path, logs):
    with FakeSmtpServer() as smtp:
        url = smtp.url
    settings = local_settings_for(servers, tmp_path, smtp_url=url)
    app = create_app(settings)
    async with app.test_app():
        created = await app.test_client().post("/api/v1/auth/register",
                                               json={"email": "cal@example.com", "password": PASSWORD})
        await app.extensions["container"].identity.accounts.aclose()
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert created.status_code == 201
    assert any(line.get("event") == "mail_failed" for line in logs.lines)
