"""Settings: contract names, list parsing, production refusal."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.config import ConfigurationError, Settings, load_settings


def test_comma_separated_settings_become_lists(monkeypatch):
    monkeypatch.setenv("CHAT_PROVIDERS", "openai, gemini")
    monkeypatch.setenv("ADMIN_USER_IDS", "user_a,user_b")
    settings = Settings(_env_file=None)
    assert settings.chat_providers == ["openai", "gemini"]
    assert settings.admin_user_ids == ["user_a", "user_b"]


def test_defaults_follow_the_contract():
    settings = Settings(_env_file=None)
    assert (settings.port, settings.mongodb_db, settings.ai_timeout_s) == (8000, "muse", 30)
    assert settings.image_providers == ["replicate", "openai"]
    assert settings.cache_ttl_s == 86400 and settings.max_upload_mb == 10


def test_production_without_required_settings_names_each_missing_one(monkeypatch):
    for name in ("MONGODB_URI", "REDIS_URL", "CLERK_JWT_KEY", "CLERK_SECRET_KEY", "CLERK_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as info:
        load_settings(app_env="production")
    message = str(info.value)
    for name in ("MONGODB_URI", "REDIS_URL", "CLERK_JWT_KEY", "CLERK_WEBHOOK_SECRET", "PUBLIC_BASE_URL"):
        assert name in message


def test_production_start_up_exits_with_the_missing_names():
    env = {"APP_ENV": "production", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "app", "serve"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "MONGODB_URI" in result.stderr and "REDIS_URL" in result.stderr
