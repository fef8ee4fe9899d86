"""CLI arguments the domain refuses are clean errors (exit 2 with a message), never tracebacks (issue 19);
local URLs follow PORT."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.__main__ import main
from app.config import Settings

BAD = [
    ["credits", "grant", "--user", "u", "--amount", "0"],
    ["credits", "grant", "--user", "u", "--amount", "-5"],
    ["credits", "grant", "--user", "u", "--amount", "ten"],
    ["credits", "show", "--user", "u", "--limit", "0"],
    ["credits", "reconcile", "--older-than", "-1"],
    ["gift-codes", "create", "--tier", "gift_999", "--count", "0"],
    ["gift-codes", "create", "--credits", "-3"],
    ["gift-codes", "create", "--tier", "gift_999", "--days", "-1"],
    ["gift-codes", "create", "--tier", "gift_999", "--expires-at", "next tuesday"],
    ["token", "--user", "u", "--ttl", "-1"],
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a))
def test_bad_arguments_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument" in err and "Traceback" not in err


def test_the_real_command_prints_one_line_not_a_traceback():
    done = subprocess.run([sys.executable, "-m", "app", "credits", "grant", "--user", "u", "--amount", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "--amount: must be between 1 and" in done.stderr


async def test_the_service_refuses_a_non_positive_grant(container):
    from services.platform.errors import ValidationFailed

    for amount in (0, -5):
        with pytest.raises(ValidationFailed):
            await container.credits.service.grant("usr_x", amount, ref=f"r{amount}", reason=None,
                                                  request_id=None)


def test_public_base_url_follows_port_when_unset(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "8102")
    settings = Settings(_env_file=None)
    assert settings.public_base_url == "http://localhost:8102"
    assert settings.checkout_success_url == "http://localhost:8102/checkout/success"
    assert Settings(_env_file=None, port=9001).public_base_url == "http://localhost:9001"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://muse.example.com/")
    assert Settings(_env_file=None).public_base_url == "https://muse.example.com"
    assert Settings(_env_file=None).checkout_success_url == "http://localhost:8102/checkout/success"
