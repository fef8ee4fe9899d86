"""AUTH_PROVIDER=local in production needs its own settings instead of Clerk's."""

from __future__ import annotations

import pytest

from app.config import ConfigurationError, load_settings

NAMES = ("MONGODB_URI", "REDIS_URL", "CLERK_JWT_KEY", "CLERK_SECRET_KEY", "CLERK_WEBHOOK_SECRET",
         "AUTH_PROVIDER", "AUTH_JWT_PRIVATE_KEY", "SMTP_URL", "MAIL_FROM")


def test_local_accounts_in_production_name_their_missing_settings_not_clerks(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as info:
        load_settings(app_env="production", auth_provider="local")
    message = str(info.value)
    for name in ("AUTH_JWT_PRIVATE_KEY", "SMTP_URL", "MAIL_FROM"):
        assert name in message
    assert "CLERK" not in message


def test_clerk_stays_the_default_and_mentions_the_alternative(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as info:
        load_settings(app_env="production")
    assert "AUTH_PROVIDER=local" in str(info.value) and "SMTP_URL" not in str(info.value)
    assert not load_settings().local_accounts
