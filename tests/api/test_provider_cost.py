"""Provider usage and cost (contract §19): the tokens each provider reports (Gemini's usageMetadata,
OpenAI's usage, streamed and not; the local provider's estimate) reach the usage rollup, priced by
PROVIDER_PRICES overlaid by the live setting `provider_prices`, and `muse_provider_cost_usd_total`."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import SecretStr

from tests.api.test_metrics import scrape, started
from tests.fixtures.admin import set_live
from tests.fixtures.chat import chat_settings
from tests.fixtures.identity import auth_headers

# USD per 1M tokens: one micro-dollar a Gemini input token, two an output token; OpenAI three and four
PRICES = {"gemini-2.5-flash": {"input_per_1m": 1, "output_per_1m": 2},
          "openai/gpt-4o-mini": {"input_per_1m": 3, "output_per_1m": 4}}


def _ask(text: str, **fields) -> dict:
    return {"messages": [{"role": "user", "content": text}], **fields}


def _events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            out.append((lines["event"], json.loads(lines.get("data", "null"))))
    return out


async def _usage(client, headers, group_by="model") -> dict:
    body = await (await client.get(f"/api/v1/usage?group_by={group_by}", headers=headers)).get_json()
    return body


async def _cost_rows(container, user_id: str) -> int:
    await container.credits.service.settle()  # provider usage rides the ledger batches; readers settle
    rows = await container.credits.rollup.rows(user_id, first="2000-01-01", last="2999-12-31")
    return sum(int(r.get("t|cost_micro_usd", 0)) for r in rows)


async def test_reported_tokens_and_their_cost_reach_the_rollup_and_the_metric(
        servers, tmp_path, fake_gemini, fake_openai):
    s = chat_settings(servers, tmp_path, fake_gemini, fake_openai, provider_prices=PRICES,
                      ai_timeout_s=15.0, breaker_failure_threshold=10,
                      metrics_token=SecretStr("scrape"))
    async with started(s) as app:
        container = app.extensions["container"]
        client = app.test_client()
        headers = await auth_headers(app, f"cost_{uuid.uuid4().hex[:6]}")
        user = await (await client.get("/api/v1/me", headers=headers)).get_json()
        before = await scrape(app, {"Authorization": "Bearer scrape"})

        fake_gemini.reply = "one two three"  # the fake: a token a word; the prompt "a b c d" is 4
        assert (await client.post("/api/v1/chat", json=_ask("a b c d"), headers=headers)).status_code == 200
        got = await _usage(client, headers)
        assert (got["totals"]["tokens_in"], got["totals"]["tokens_out"]) == (4, 3)
        assert fake_gemini.calls[-1].path.endswith(":generateContent")

        fake_gemini.reply = "five words in this answer"
        streamed = await client.post("/api/v1/chat", json=_ask("e f", stream=True), headers=headers)
        assert [name for name, _ in _events(await streamed.get_data(as_text=True))][-1] == "done"
        got = await _usage(client, headers)
        assert (got["totals"]["tokens_in"], got["totals"]["tokens_out"]) == (4 + 2, 3 + 5)  # the last chunk's

        fake_gemini.mode = "503"  # OpenAI answers: usage 5 in, a token per word out (streamed: when asked)
        fake_openai.reply = "alpha beta"
        assert (await client.post("/api/v1/chat", json=_ask("g"), headers=headers)).status_code == 200
        streamed = await client.post("/api/v1/chat", json=_ask("h", stream=True), headers=headers)
        assert [name for name, _ in _events(await streamed.get_data(as_text=True))][-1] == "done"
        assert fake_openai.calls[-1].body["stream_options"] == {"include_usage": True}
        fake_gemini.mode = "ok"
        got = await _usage(client, headers)
        assert (got["totals"]["tokens_in"], got["totals"]["tokens_out"]) == (6 + 10, 8 + 4)
        assert got["totals"]["requests"] == 4

        # Gemini: 6 in, 8 out = 22 micro-dollars; OpenAI: 10 in, 4 out = 46
        assert await _cost_rows(container, user["id"]) == 68
        after = await scrape(app, {"Authorization": "Bearer scrape"})
        gemini = frozenset({"provider": "gemini", "model": "gemini-2.5-flash"}.items())
        openai = frozenset({"provider": "openai", "model": "gpt-4o-mini"}.items())
        name = "muse_provider_cost_usd_total"
        assert after[(name, gemini)] - before.get((name, gemini), 0) == pytest.approx(22e-6)
        assert after[(name, openai)] - before.get((name, openai), 0) == pytest.approx(46e-6)

        # a live price replaces the configured one at once (this process; every process within its TTL)
        await set_live(app, provider_prices={"gemini-2.5-flash": {"output_per_1m": 1}})
        container.platform.live_settings.invalidate()
        fake_gemini.reply = "x"
        assert (await client.post("/api/v1/chat", json=_ask("i"), headers=headers)).status_code == 200
        assert await _cost_rows(container, user["id"]) == 68 + 1  # input now free, output 1 a token
        # a cached answer calls no provider: nothing more is counted
        assert (await client.post("/api/v1/chat", json=_ask("i"), headers=headers)).status_code == 200
        assert await _cost_rows(container, user["id"]) == 69


async def test_the_local_provider_records_an_estimate(app, client):
    headers = await auth_headers(app, f"local_{uuid.uuid4().hex[:6]}")
    assert (await client.post("/api/v1/chat", json=_ask("twelve chars"), headers=headers)).status_code == 200
    totals = (await _usage(client, headers))["totals"]
    # estimate: 3 framing tokens a message + 3 priming + ceil(12 / 4); the answer ceil(chars / 4)
    assert totals["tokens_in"] == 3 + 3 + 3 and totals["tokens_out"] > 0


async def test_provider_prices_are_checked_as_a_live_setting(app, client):
    headers = await auth_headers(app, "prices_admin", role="ADMIN")
    bad = await client.patch("/api/v1/admin/settings", headers=headers,
                             json={"provider_prices": {"m": {"per_image": -1, "per_token": 2}}})
    assert bad.status_code == 422
    body = await bad.get_json()
    assert json.dumps(body).count("provider_prices") >= 1
    ok = await client.patch("/api/v1/admin/settings", headers=headers,
                            json={"provider_prices": {"gpt-image-1": {"per_image": 0.04}}})
    assert ok.status_code == 200
    assert (await ok.get_json())["provider_prices"] == {"gpt-image-1": {"per_image": 0.04}}
    gone = await client.patch("/api/v1/admin/settings", headers=headers,
                              json={"provider_prices": {"gpt-image-1": None}})
    assert (await gone.get_json())["provider_prices"] == {}
