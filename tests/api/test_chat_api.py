"""POST /api/v1/chat over HTTP: real SDKs against the Gemini/OpenAI wire fakes, real Mongo/Redis."""

from __future__ import annotations

import asyncio
import json
import time

from tests.fixtures.identity import auth_headers


def body(text: str = "Hi there", **extra) -> dict:
    return {"messages": [{"role": "user", "content": text}], **extra}


async def user_of(app, clerk_id: str):
    return await app.extensions["container"].identity.users.ensure_clerk_user(clerk_id)


async def ledger_kinds(app, user_id: str) -> list[str]:
    ops, _ = await app.extensions["container"].credits.service.ledger(user_id, limit=100)
    return sorted(op.meta.get("item", op.kind) for op in ops if op.kind in ("charge", "refund"))


def events(raw: str) -> list[tuple[str, dict]]:
    out = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append((lines["event"], json.loads(lines["data"])))
    return out


async def post(app, payload: dict, *, clerk_id: str = "alice", headers: dict | None = None):
    auth = await auth_headers(app, clerk_id)
    return await app.test_client().post("/api/v1/chat", json=payload, headers={**auth, **(headers or {})})


async def test_healthy_gemini_answers_and_creates_a_titled_conversation(chat_app, fake_gemini, fake_openai):
    response = await post(chat_app, body("Plan a trip to Lisbon in spring"), headers={"X-Request-ID": "rq-1"})
    data = await response.get_json()
    assert response.status_code == 200, data
    assert data["provider"] == "gemini" and data["model"] == "gemini-2.5-flash"
    assert data["message"] == {"role": "assistant", "content": "Hello from Gemini."}
    assert data["cached"] is False and data["credits_charged"] == 1 and data["request_id"] == "rq-1"
    assert data["id"].startswith("msg_") and data["conversation_id"].startswith("cnv_")
    assert fake_gemini.count() == 1 and fake_openai.count() == 0
    assert fake_gemini.calls[0].headers["X-Request-ID"] == "rq-1"
    auth = await auth_headers(chat_app, "alice")
    convo = await (await chat_app.test_client().get(f"/api/v1/conversations/{data['conversation_id']}",
                                                     headers=auth)).get_json()
    assert convo["title"] == "Plan a trip to Lisbon in spring"
    assert [(m["role"], m["content"]) for m in convo["messages"]] == [
        ("user", "Plan a trip to Lisbon in spring"), ("assistant", "Hello from Gemini.")]


async def test_gemini_503_fails_over_to_openai_with_one_charge(chat_app, fake_gemini, fake_openai):
    fake_gemini.mode = "503"
    response = await post(chat_app, body())
    data = await response.get_json()
    assert response.status_code == 200, data
    assert data["provider"] == "openai" and data["message"]["content"] == "Hello from OpenAI."
    assert data["credits_charged"] == 1
    assert fake_gemini.count() == 1 and fake_openai.count() == 1
    user = await user_of(chat_app, "alice")
    assert await ledger_kinds(chat_app, user.id) == ["chat"]


async def test_hanging_gemini_fails_over_within_timeout_plus_one_second(chat_app_factory, fake_gemini):
    fake_gemini.mode = "hang"
    async with chat_app_factory(ai_timeout_s=1.0) as app:
        await auth_headers(app, "alice")
        started = time.perf_counter()
        response = await post(app, body())
        elapsed = time.perf_counter() - started
    data = await response.get_json()
    assert response.status_code == 200, data
    assert data["provider"] == "openai"
    assert elapsed < 1.0 + 1.0  # AI_TIMEOUT_S is 1 s in these tests


async def test_both_down_is_502_and_the_charge_is_refunded(chat_app, fake_gemini, fake_openai):
    fake_gemini.mode, fake_openai.mode = "503", "500"
    response = await post(chat_app, body())
    problem = await response.get_json()
    assert response.status_code == 502
    assert response.content_type == "application/problem+json"
    assert problem["code"] == "provider_unavailable"
    user = await user_of(chat_app, "alice")
    assert await ledger_kinds(chat_app, user.id) == ["chat", "refund"]
    ops, _ = await chat_app.extensions["container"].credits.service.ledger(user.id, limit=100)
    assert sum(op.delta for op in ops if op.kind in ("charge", "refund")) == 0


async def test_both_timing_out_is_504(chat_app_factory, fake_gemini, fake_openai):
    fake_gemini.mode = fake_openai.mode = "hang"
    async with chat_app_factory(ai_timeout_s=0.5) as app:
        response = await post(app, body())
        assert response.status_code == 504
        assert (await response.get_json())["code"] == "provider_timeout"


async def test_open_breaker_skips_the_dead_provider_without_waiting(chat_app, fake_gemini, fake_openai):
    fake_gemini.mode = "503"
    for i in range(2):  # threshold is 2 in these tests
        assert (await post(chat_app, body(f"warm {i}"))).status_code == 200
    state = await chat_app.extensions["container"].platform.breaker.state("gemini")
    assert state["state"] == "open"
    fake_gemini.mode = "hang"
    calls_before = fake_gemini.count()
    await auth_headers(chat_app, "alice")
    started = time.perf_counter()
    response = await post(chat_app, body("after the breaker opened"))
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert (await response.get_json())["provider"] == "openai"
    assert fake_gemini.count() == calls_before
    assert elapsed < 1.0  # the timeout is 3 s: nobody waited for Gemini


async def test_same_request_twice_is_cached_free_and_makes_no_provider_call(chat_app, fake_gemini):
    first = await (await post(chat_app, body("What is 2+2?"))).get_json()
    second = await (await post(chat_app, body("What is 2+2?"))).get_json()
    assert first["cached"] is False and first["credits_charged"] == 1
    assert second["cached"] is True and second["credits_charged"] == 0
    assert second["message"] == first["message"] and second["provider"] == "gemini"
    assert fake_gemini.count() == 1
    user = await user_of(chat_app, "alice")
    assert await ledger_kinds(chat_app, user.id) == ["chat"]


async def test_twenty_identical_concurrent_requests_make_one_provider_call(chat_app, fake_gemini):
    fake_gemini.delay_s = 0.3
    auth = await auth_headers(chat_app, "alice")
    client = chat_app.test_client()
    responses = await asyncio.gather(*(
        client.post("/api/v1/chat", json=body("Same question"), headers=auth) for _ in range(20)))
    payloads = [await r.get_json() for r in responses]
    assert all(r.status_code == 200 for r in responses), payloads[0]
    assert fake_gemini.count() == 1
    assert {p["message"]["content"] for p in payloads} == {"Hello from Gemini."}
    assert sum(p["credits_charged"] for p in payloads) == 1
    assert sum(1 for p in payloads if not p["cached"]) == 1


async def test_stream_sends_meta_deltas_in_order_then_done(chat_app, fake_gemini):
    fake_gemini.reply = "alpha beta gamma delta epsilon"
    fake_gemini.chunk_delay_s = 0.01
    response = await post(chat_app, body("Stream please", stream=True))
    assert response.status_code == 200
    assert response.content_type.startswith("text/event-stream")
    got = events(await response.get_data(as_text=True))
    assert got[0][0] == "meta" and got[0][1]["provider"] == "gemini" and got[0][1]["cached"] is False
    assert got[0][1]["conversation_id"].startswith("cnv_")
    deltas = [d["content"] for name, d in got if name == "delta"]
    assert deltas == ["alpha ", "beta ", "gamma ", "delta ", "epsilon"]
    assert got[-1][0] == "done" and got[-1][1]["credits_charged"] == 1
    # the complete streamed answer is cached
    again = await (await post(chat_app, body("Stream please"))).get_json()
    assert again["cached"] is True and again["message"]["content"] == "alpha beta gamma delta epsilon"
    assert fake_gemini.count() == 1


async def test_stream_failover_before_the_first_delta_is_invisible(chat_app, fake_gemini, fake_openai):
    fake_gemini.mode = "503"
    fake_openai.reply = "from the fallback"
    response = await post(chat_app, body("Stream with failover", stream=True))
    got = events(await response.get_data(as_text=True))
    assert [name for name, _ in got] == ["meta", "delta", "delta", "delta", "done"]
    assert got[0][1]["provider"] == "openai"
    assert "".join(d["content"] for name, d in got if name == "delta") == "from the fallback"


async def test_stream_cut_midway_ends_with_error_and_refund(chat_app, fake_gemini):
    fake_gemini.reply = "one two three four five six"
    fake_gemini.mode = "drop"
    response = await post(chat_app, body("Stream that breaks", stream=True))
    got = events(await response.get_data(as_text=True))
    names = [name for name, _ in got]
    assert names[0] == "meta" and "delta" in names and names[-1] == "error" and "done" not in names
    assert got[-1][1]["code"] == "provider_unavailable" and got[-1][1]["status"] == 502
    user = await user_of(chat_app, "alice")
    assert await ledger_kinds(chat_app, user.id) == ["chat", "refund"]
    # nothing was cached: the next identical request calls the provider again
    fake_gemini.mode = "ok"
    again = await (await post(chat_app, body("Stream that breaks"))).get_json()
    assert again["cached"] is False


async def test_cached_answer_can_be_streamed_for_free(chat_app, fake_gemini):
    await post(chat_app, body("Cache me"))
    response = await post(chat_app, body("Cache me", stream=True))
    got = events(await response.get_data(as_text=True))
    assert got[0][1]["cached"] is True
    assert "".join(d["content"] for name, d in got if name == "delta") == "Hello from Gemini."
    assert got[-1] == ("done", got[-1][1]) and got[-1][1]["credits_charged"] == 0
    assert fake_gemini.count() == 1


async def test_conversation_history_is_sent_and_appended(chat_app, fake_gemini):
    first = await (await post(chat_app, body("My name is Ada"))).get_json()
    fake_gemini.reply = "Your name is Ada."
    second = await (await post(chat_app, body("What is my name?",
                                              conversation_id=first["conversation_id"]))).get_json()
    assert second["conversation_id"] == first["conversation_id"]
    contents = fake_gemini.calls[-1].body["contents"]
    assert [c["parts"][0]["text"] for c in contents] == [
        "My name is Ada", "Hello from Gemini.", "What is my name?"]
    auth = await auth_headers(chat_app, "alice")
    client = chat_app.test_client()
    listing = await (await client.get("/api/v1/conversations", headers=auth)).get_json()
    assert [c["id"] for c in listing["items"]] == [first["conversation_id"]]
    assert listing["items"][0]["message_count"] == 4 and listing["next_cursor"] is None
    url = f"/api/v1/conversations/{first['conversation_id']}"
    assert (await client.delete(url, headers=auth)).status_code == 204
    assert (await client.get(url, headers=auth)).status_code == 404


async def test_another_users_conversation_is_404(chat_app):
    mine = await (await post(chat_app, body("Private thoughts"), clerk_id="alice")).get_json()
    cid = mine["conversation_id"]
    bob = await auth_headers(chat_app, "bob")
    client = chat_app.test_client()
    for response in (
        await client.get(f"/api/v1/conversations/{cid}", headers=bob),
        await client.delete(f"/api/v1/conversations/{cid}", headers=bob),
        await client.post("/api/v1/chat", json=body("hi", conversation_id=cid), headers=bob),
    ):
        assert response.status_code == 404
        assert (await response.get_json())["code"] == "not_found"
    listing = await (await client.get("/api/v1/conversations", headers=bob)).get_json()
    assert listing["items"] == []


INVALID = [
    {"messages": []},
    {"messages": [{"role": "user", "content": "x"}] * 51},
    {"messages": [{"role": "robot", "content": "x"}]},
    {"messages": [{"role": "user", "content": "x" * 32001}]},
    {"messages": [{"role": "user", "content": "x"}], "temperature": 3},
    {"messages": [{"role": "user", "content": "x"}], "model": "no-such-model"},
]


async def test_invalid_requests_are_422_and_free(chat_app, fake_gemini):
    for payload in INVALID:
        response = await post(chat_app, payload)
        assert response.status_code == 422, payload
        assert (await response.get_json())["code"] == "validation_error"
    assert fake_gemini.count() == 0
    user = await user_of(chat_app, "alice")
    assert await ledger_kinds(chat_app, user.id) == []


async def test_cache_works_on_the_upstash_rest_backend(chat_app_factory, servers, fake_gemini):
    from tests.fakes.upstash import FakeUpstash

    with FakeUpstash(servers["redis_url"]) as upstash:
        async with chat_app_factory(upstash_redis_rest_url=upstash.url,
                                    upstash_redis_rest_token=upstash.token) as app:
            first = await (await post(app, body("Via Upstash"))).get_json()
            second = await (await post(app, body("Via Upstash"))).get_json()
    assert (first["cached"], second["cached"]) == (False, True)
    assert fake_gemini.count() == 1
    assert any(cmd[0].upper() == "SET" and str(cmd[1]).startswith("muse:chat:cache:")
               for cmd in upstash.commands)


async def test_chat_needs_authentication(chat_app):
    response = await chat_app.test_client().post("/api/v1/chat", json=body())
    assert response.status_code == 401


async def test_idempotency_key_replays_json_and_streams_still_stream(chat_app, fake_gemini):
    headers = {"Idempotency-Key": "chat-key-1"}
    first = await post(chat_app, body("Idempotent question"), headers=headers)
    calls = fake_gemini.count()
    again = await post(chat_app, body("Idempotent question"), headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (await again.get_json())["id"] == (await first.get_json())["id"]
    assert fake_gemini.count() == calls
    streamed = await post(chat_app, body("Idempotent stream", stream=True), headers={"Idempotency-Key": "k2"})
    got = events(await streamed.get_data(as_text=True))
    assert [name for name, _ in got][0] == "meta" and got[-1][0] == "done"


async def test_identical_requests_in_two_processes_make_one_provider_call(chat_app_factory, fake_gemini):
    fake_gemini.delay_s = 0.5
    async with chat_app_factory() as first_app, chat_app_factory() as second_app:
        one, two = await asyncio.gather(post(first_app, body("Across processes")),
                                        post(second_app, body("Across processes")))
        payloads = [await one.get_json(), await two.get_json()]
    assert fake_gemini.count() == 1
    assert sorted(p["cached"] for p in payloads) == [False, True]
    assert sorted(p["credits_charged"] for p in payloads) == [0, 1]


async def test_stream_with_every_provider_down_is_a_plain_502_problem_and_refunded(chat_app, fake_gemini,
                                                                                  fake_openai):
    fake_gemini.mode = fake_openai.mode = "503"
    response = await post(chat_app, body("Nobody home", stream=True))
    assert response.status_code == 502
    assert response.content_type == "application/problem+json"
    user = await user_of(chat_app, "alice")
    assert await ledger_kinds(chat_app, user.id) == ["chat", "refund"]


async def test_openapi_documents_chat_and_conversations(chat_app):
    spec = await (await chat_app.test_client().get("/openapi.json")).get_json()
    chat = spec["paths"]["/api/v1/chat"]["post"]
    assert "requestBody" in chat and "200" in chat["responses"]
    assert {"/api/v1/conversations", "/api/v1/conversations/{conversation_id}"} <= set(spec["paths"])


async def test_chat_switched_off_in_live_settings_is_503_feature_disabled(chat_app, fake_gemini):
    await chat_app.extensions["container"].platform.live_settings.update(
        {"chat_enabled": False}, admin_id="usr_admin", request_id=None)
    response = await post(chat_app, body("Anyone?"))
    assert response.status_code == 503
    assert (await response.get_json())["code"] in ("feature_disabled", "maintenance")
    assert fake_gemini.count() == 0


async def test_identical_concurrent_streams_share_one_provider_call(chat_app, fake_gemini):
    fake_gemini.reply = "shared stream answer"
    fake_gemini.chunk_delay_s = 0.1
    auth = await auth_headers(chat_app, "alice")
    client = chat_app.test_client()
    payload = body("Stream together", stream=True)
    responses = await asyncio.gather(*(
        client.post("/api/v1/chat", json=payload, headers=auth) for _ in range(5)))
    streams = [events(await r.get_data(as_text=True)) for r in responses]
    assert fake_gemini.count() == 1
    for got in streams:
        assert "".join(d["content"] for name, d in got if name == "delta") == "shared stream answer"
        assert got[-1][0] == "done"
    assert sorted(got[-1][1]["credits_charged"] for got in streams) == [0, 0, 0, 0, 1]


async def test_without_keys_the_local_provider_answers_json_and_stream(chat_app_factory):
    async with chat_app_factory(gemini_api_key=None, openai_api_key=None) as app:
        data = await (await post(app, body("Offline please"))).get_json()
        assert data["provider"] == "local" and "Offline please" in data["message"]["content"]
        got = events(await (await post(app, body("Offline stream", stream=True))).get_data(as_text=True))
        assert got[0][1]["provider"] == "local" and got[-1][0] == "done"
