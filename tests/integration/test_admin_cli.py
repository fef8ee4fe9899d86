"""`python -m app admin settings|promote` against the real servers (in-process CLI, sync tests)."""

from __future__ import annotations

import json

import pymongo
import pytest

from app.__main__ import main
from app.commands.admin import parse_assignments
from services.platform.errors import ValidationFailed


@pytest.fixture
def cli_env(settings, monkeypatch):
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("MONGODB_URI", settings.mongodb_uri)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("MONGODB_DB", settings.mongodb_db)
    monkeypatch.setenv("VAR_DIR", str(settings.var_dir))
    client = pymongo.MongoClient(settings.mongodb_uri)
    yield client[settings.mongodb_db]
    client.drop_database(settings.mongodb_db)
    client.close()


def test_settings_command_shows_and_changes_live_settings_with_an_audit_entry(cli_env, capsys):
    assert main(["admin", "settings"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["maintenance_mode"] is False and shown["version"] == 0

    assert main(["admin", "settings", "--set", "maintenance_mode=on", "--set", "providers.gemini=false",
                 "--set", "signup_credits=7"]) == 0
    changed = json.loads(capsys.readouterr().out)
    assert changed["maintenance_mode"] is True and changed["providers"]["gemini"] is False
    assert changed["signup_credits"] == 7 and changed["updated_by"].startswith("cli")

    stored = cli_env["live_settings"].find_one({"_id": "global"})
    assert stored["maintenance_mode"] is True and stored["version"] == 1
    [entry] = list(cli_env["audit_log"].find({"action": "settings.update"}))
    assert entry["actor_id"].startswith("cli") and entry["after"]["signup_credits"] == 7

    assert main(["admin", "settings", "--set", "colour=blue"]) == 1
    assert "not a live setting" in capsys.readouterr().err


def test_promote_makes_a_clerk_user_admin_and_back(cli_env, capsys):
    assert main(["admin", "promote", "clerk_boss"]) == 0
    promoted = json.loads(capsys.readouterr().out)
    assert promoted["role"] == "ADMIN" and promoted["clerk_id"] == "clerk_boss"
    assert cli_env["users"].find_one({"clerk_id": "clerk_boss"})["role"] == "ADMIN"

    assert main(["admin", "promote", promoted["id"], "--role", "USER"]) == 0
    assert json.loads(capsys.readouterr().out)["role"] == "USER"
    audit = list(cli_env["audit_log"].find({"action": "user.update", "target": promoted["id"]}))
    changes = [(a["before"]["role"], a["after"]["role"]) for a in audit]
    assert changes == [("USER", "ADMIN"), ("ADMIN", "USER")]

    assert main(["admin", "promote", "usr_missing"]) == 1
    assert "No such user" in capsys.readouterr().err


@pytest.mark.parametrize("items, expected", [
    (["chat_enabled=false"], {"chat_enabled": False}),
    (["images_enabled=YES", "signup_credits=0"], {"images_enabled": True, "signup_credits": 0}),
    (["providers.openai=off", "providers.replicate=1"], {"providers": {"openai": False, "replicate": True}}),
])
def test_assignments_parse_to_a_settings_patch(items, expected):
    assert parse_assignments(items) == expected


@pytest.mark.parametrize("item", ["maintenance_mode", "maintenance_mode=maybe", "signup_credits=lots", "x=1"])
def test_bad_assignments_are_refused(item):
    with pytest.raises(ValidationFailed):
        parse_assignments([item])


def test_a_commands_stdout_is_its_answer_and_its_logs_go_to_stderr(cli_env, capsys):
    """A warning logged while a command runs (the CI rehearsal: the local copies' Redis connection
    lost and retried) went to stdout, into the JSON answer a script parses."""
    import structlog

    from app.commands.common import run_with_container

    async def work(container) -> dict:
        structlog.stdlib.get_logger("muse.test").warning("something_to_say", detail="x")
        return {"ok": True}

    assert run_with_container(work) == {"ok": True}
    captured = capsys.readouterr()
    assert captured.out == ""
    assert '"event":"something_to_say"' in captured.err
