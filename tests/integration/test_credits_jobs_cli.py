"""The periodic reconcile job and the `credits` / `gift-codes` CLI commands."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

from app.__main__ import main
from app.jobs import reconcile_credits
from app.wiring import Container
from app.wiring.jobs import arq_context
from services.credits.service import CreditsService
from tests.conftest import make_settings
from tests.fixtures.credits import travel
from tests.integration.test_credits_reconcile import CrashingLedger


async def test_the_periodic_job_repairs_ops_pending_longer_than_the_threshold(container):
    crashing = CreditsService(container.credits.accounts, CrashingLedger(), container.platform.catalog)
    await crashing.charge("usr_j", 2, plan="free", kind="chat", ref=None, request_id="rq_j")
    assert (await reconcile_credits({**arq_context(container), "job_id": "j1"}))["repaired"] == 0
    travel(timedelta(seconds=container.settings.credits_reconcile_after_s + 1))
    counts = await reconcile_credits({**arq_context(container), "job_id": "j2"})
    assert counts == {"repaired": 1, "cleared": 0, "undone": 0, "gift_codes": 0}
    assert (await container.credits.service.audit("usr_j"))["ok"]


def test_cli_grant_show_reconcile_and_gift_code_creation(servers, tmp_path, monkeypatch, capsys):
    db = f"t_{uuid.uuid4().hex[:12]}"
    env = {"APP_ENV": "test", "MONGODB_URI": servers["mongodb_uri"], "REDIS_URL": servers["redis_url"],
           "MONGODB_DB": db, "VAR_DIR": str(tmp_path / "var")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = make_settings(servers, tmp_path, mongodb_db=db)

    async def make_user() -> str:
        container = Container(settings)
        await container.start()
        user = await container.identity.users.ensure_clerk_user("cli_user")
        await container.stop()
        return user.id

    user_id = asyncio.run(make_user())
    capsys.readouterr()
    assert main(["credits", "grant", "--user", "cli_user", "--amount", "40", "--ref", "gift-1"]) == 0
    granted = json.loads(capsys.readouterr().out)
    assert granted["granted"] and granted["user_id"] == user_id
    assert main(["credits", "grant", "--user", user_id, "--amount", "40", "--ref", "gift-1"]) == 0
    assert json.loads(capsys.readouterr().out)["granted"] is False
    assert main(["credits", "show", "--user", user_id]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["credits"]["balance"] == 40 and shown["audit"]["ok"]
    assert shown["ledger"][0]["kind"] == "grant"
    assert main(["credits", "reconcile", "--older-than", "0"]) == 0
    assert json.loads(capsys.readouterr().out) == {"repaired": 0, "cleared": 0, "undone": 0, "gift_codes": 0}
    assert main(["gift-codes", "create", "--tier", "gift_999", "--count", "3", "--days", "7"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert len(created["codes"]) == 3 and created["expires_at"].endswith("Z")
    assert main(["credits", "show", "--user", "nobody"]) == 1
    assert "No user" in capsys.readouterr().err

    async def drop() -> None:
        container = Container(settings)
        await container.start()
        await container.platform.database.client.drop_database(db)
        await container.stop()

    asyncio.run(drop())
