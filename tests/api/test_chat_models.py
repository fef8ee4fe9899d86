"""Chat model catalogue (contract §1 premium models): roles, per-model prices, provider model ids, cache."""

from __future__ import annotations

import json

import pytest

from app.config import Settings
from services.platform.catalog import Catalog
from tests.fixtures.identity import auth_headers


def body(text: str, **extra) -> dict:
    return {"messages": [{"role": "user", "content": text}], **extra}


async def post(app, payload: dict, *, clerk_id: str, role: str = "USER"):
    headers = await auth_headers(app, clerk_id, role=role)
    return await app.test_client().post("/api/v1/chat", json=payload, headers=headers)


async def charges(app, clerk_id: str) -> list[int]:
    container = app.extensions["container"]
    user = await container.identity.users.ensure_clerk_user(clerk_id)
    ops, _ = await container.credits.service.ledger(user.id, limit=100)
    return [-sum(op.sources.values()) for op in ops if op.kind == "charge"]  # credits taken per charge


async def test_plans_list_the_chat_models_with_role_and_price(chat_app):
    response = await chat_app.test_client().get("/api/v1/plans")
    models = {m["name"]: m for m in (await response.get_json())["models"]}
    assert models == {"default": {"name": "default", "min_role": "USER", "price": 1},
                      "pro": {"name": "pro", "min_role": "SUBSCRIBER", "price": 5}}


async def test_a_user_asking_for_a_premium_model_is_403_and_not_charged(chat_app, fake_gemini, fake_openai):
    for stream in (False, True):
        response = await post(chat_app, body("Think hard", model="pro", stream=stream), clerk_id="plain")
        problem = await response.get_json()
        assert response.status_code == 403 and problem["code"] == "forbidden"
        assert "'pro'" in problem["detail"] and "SUBSCRIBER" in problem["detail"]
    assert await charges(chat_app, "plain") == []
    assert fake_gemini.count() == fake_openai.count() == 0
    credits = await (await chat_app.test_client().get(
        "/api/v1/credits", headers=await auth_headers(chat_app, "plain"))).get_json()
    assert credits["allowance"]["used"] == 0


async def test_a_subscriber_gets_the_premium_model_and_pays_its_price(chat_app, fake_gemini):
    response = await post(chat_app, body("Think hard", model="pro"), clerk_id="payer", role="SUBSCRIBER")
    data = await response.get_json()
    assert response.status_code == 200
    assert (data["provider"], data["model"], data["credits_charged"]) == ("gemini", "gemini-2.5-pro", 5)
    assert "gemini-2.5-pro:generateContent" in fake_gemini.calls[-1].path
    assert await charges(chat_app, "payer") == [5]
    # the default model is a different cache entry and costs the plain chat price
    plain = await (await post(chat_app, body("Think hard"), clerk_id="payer",
                              role="SUBSCRIBER")).get_json()
    assert (plain["cached"], plain["model"], plain["credits_charged"]) == (False, "gemini-2.5-flash", 1)
    assert "gemini-2.5-flash:generateContent" in fake_gemini.calls[-1].path
    # the same premium request again is a cache hit of the resolved model, free
    again = await (await post(chat_app, body("Think hard", model="pro"), clerk_id="payer",
                              role="SUBSCRIBER")).get_json()
    assert (again["cached"], again["model"], again["credits_charged"]) == (True, "gemini-2.5-pro", 0)
    assert fake_gemini.count() == 2


async def test_an_admin_streams_the_premium_model_with_failover_to_its_openai_model(chat_app, fake_gemini,
                                                                                    fake_openai):
    fake_gemini.mode = "503"
    fake_openai.reply = "premium fallback"
    response = await post(chat_app, body("Stream hard", model="pro", stream=True), clerk_id="boss",
                          role="ADMIN")
    raw = await response.get_data(as_text=True)
    blocks = [dict(line.split(": ", 1) for line in b.splitlines()) for b in raw.strip().split("\n\n")]
    meta, done = json.loads(blocks[0]["data"]), json.loads(blocks[-1]["data"])
    assert response.status_code == 200 and blocks[-1]["event"] == "done"
    assert (meta["provider"], meta["model"], done["credits_charged"]) == ("openai", "gpt-4o", 5)
    assert "gemini-2.5-pro:streamGenerateContent" in fake_gemini.calls[-1].path
    assert fake_openai.calls[-1].body["model"] == "gpt-4o"
    conversation = await (await chat_app.test_client().get(
        f"/api/v1/conversations/{meta['conversation_id']}",
        headers=await auth_headers(chat_app, "boss", role="ADMIN"))).get_json()
    assert conversation["messages"][-1]["model"] == "gpt-4o"


async def test_an_unknown_model_is_422_and_free(chat_app, fake_gemini):
    response = await post(chat_app, body("Hello", model="ultra"), clerk_id="curious", role="ADMIN")
    problem = await response.get_json()
    assert response.status_code == 422 and problem["code"] == "validation_error"
    assert problem["errors"][0]["loc"] == ["body", "model"]
    assert await charges(chat_app, "curious") == [] and fake_gemini.count() == 0


async def test_chat_models_setting_adds_replaces_and_removes_models(monkeypatch, tmp_path):
    monkeypatch.setenv("CHAT_MODELS", json.dumps({
        "pro": None, "max": {"gemini": "gemini-ultra", "min_role": "admin", "price": 9},
        "default": {"gemini": "gemini-lite", "openai": "gpt-4.1-nano"}}))
    settings = Settings(_env_file=None, app_env="test", var_dir=tmp_path)  # type: ignore[call-arg]
    catalog = Catalog.default(settings)
    assert catalog.public()["models"] == [{"name": "default", "min_role": "USER", "price": 1},
                                          {"name": "max", "min_role": "ADMIN", "price": 9}]
    assert catalog.chat_model("max").provider_models == {"gemini": "gemini-ultra"}
    assert catalog.chat_model("default").provider_models == {"gemini": "gemini-lite",
                                                             "openai": "gpt-4.1-nano"}
    monkeypatch.setenv("CHAT_MODELS", json.dumps({"default": None}))
    with pytest.raises(ValueError, match="'default'"):
        Catalog.default(Settings(_env_file=None, app_env="test", var_dir=tmp_path))  # type: ignore[call-arg]
