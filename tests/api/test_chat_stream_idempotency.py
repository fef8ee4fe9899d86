"""Idempotency-Key on streamed chat: deltas pass through as produced, the whole stream is replayed.

The body is read from the ASGI connection chunk by chunk (Quart's `client.request`), so the test
sees when each SSE event reaches the client, not just the final bytes.
"""

from __future__ import annotations

import asyncio
import json
import time

from tests.fixtures.identity import auth_headers


def _payload(text: str) -> bytes:
    return json.dumps({"messages": [{"role": "user", "content": text}], "stream": True}).encode()


async def _read_stream(app, text: str, *, key: str, clerk_id: str = "streamer",
                       stop_after_first_delta: bool = False) -> tuple[int, list[tuple[float, bytes]]]:
    """(status, [(seconds since the request, chunk)]); with `stop_after_first_delta` the client hangs up."""
    headers = {**await auth_headers(app, clerk_id), "Content-Type": "application/json",
               "Idempotency-Key": key}
    started = time.perf_counter()
    chunks: list[tuple[float, bytes]] = []
    async with app.test_client().request("/api/v1/chat", method="POST", headers=headers) as connection:
        await connection.send(_payload(text))
        await connection.send_complete()
        while True:
            chunk = await asyncio.wait_for(connection.receive(), 10)
            if not chunk:  # the final, empty body message
                break
            chunks.append((time.perf_counter() - started, chunk))
            if stop_after_first_delta and b"event: delta" in chunk:
                await connection.disconnect()
                break
    return connection.status_code, chunks


def _events(raw: bytes) -> list[tuple[str, dict]]:
    out = []
    for block in raw.decode().strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append((lines["event"], json.loads(lines["data"])))
    return out


async def _charges(app, clerk_id: str) -> list[str]:
    container = app.extensions["container"]
    user = await container.identity.users.ensure_clerk_user(clerk_id)
    ops, _ = await container.credits.service.ledger(user.id, limit=100)
    return sorted(op.kind for op in ops if op.kind in ("charge", "refund"))


async def test_a_keyed_stream_reaches_the_client_delta_by_delta_and_is_replayed_whole(chat_app, fake_gemini):
    fake_gemini.reply = "one two three four five six seven eight"
    fake_gemini.chunk_delay_s = 0.1  # the upstream needs ≥ 0.8 s for the whole answer
    status, chunks = await _read_stream(chat_app, "Stream slowly", key="stream-key-1")
    assert status == 200
    arrivals = {}
    for at, chunk in chunks:
        for name, _data in _events(chunk):
            arrivals.setdefault(name, at)
            arrivals[f"last_{name}"] = at
    # the first delta reached the client long before the provider finished
    assert arrivals["last_delta"] - arrivals["delta"] >= 0.5
    assert arrivals["done"] - arrivals["delta"] >= 0.5
    assert len([c for _, c in chunks if b"event: delta" in c]) == 8  # one chunk per delta, not one blob
    first = b"".join(c for _, c in chunks)
    got = _events(first)
    assert [n for n, _ in got] == ["meta"] + ["delta"] * 8 + ["done"]
    assert fake_gemini.count("streamGenerateContent") == 1

    replay = await chat_app.test_client().post(
        "/api/v1/chat", data=_payload("Stream slowly"),
        headers={**await auth_headers(chat_app, "streamer"), "Content-Type": "application/json",
                 "Idempotency-Key": "stream-key-1"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content_type.startswith("text/event-stream")
    assert await replay.get_data() == first  # byte for byte, same message id
    assert fake_gemini.count() == 1  # no provider call for the replay
    assert await _charges(chat_app, "streamer") == ["charge"]


async def test_a_keyed_stream_abandoned_before_any_delta_releases_the_key(chat_app, fake_gemini):
    """Gone before an answer reached it: nothing served, refunded, the key free for a retry.

    (Stopped after a delta is the Stop button: charged and replayed, tests/api/test_chat_stop.py.)"""
    fake_gemini.delay_s = 0.5  # the provider is slow to start; the client gives up first
    headers = {**await auth_headers(chat_app, "quitter"), "Content-Type": "application/json",
               "Idempotency-Key": "gone-1"}
    async with chat_app.test_client().request("/api/v1/chat", method="POST", headers=headers) as connection:
        await connection.send(_payload("Hang up"))
        await connection.send_complete()
        await asyncio.sleep(0.1)
        await connection.disconnect()
    fake_gemini.delay_s = 0.0
    status, chunks = (0, [])
    for _ in range(100):  # until the abandoned request has wound down and released the key
        status, chunks = await _read_stream(chat_app, "Hang up", key="gone-1", clerk_id="quitter")
        if status != 409:
            break
        await asyncio.sleep(0.05)
    got = _events(b"".join(c for _, c in chunks))
    assert status == 200 and got[-1][0] == "done"  # ran again: not a 409, not a partial replay
    kinds: list[str] = []
    for _ in range(100):  # the abandoned request's refund may land just after the retry finished
        kinds = await _charges(chat_app, "quitter")
        if kinds.count("charge") - kinds.count("refund") == 1:
            break
        await asyncio.sleep(0.05)
    assert kinds.count("charge") - kinds.count("refund") == 1, kinds  # one answer, one net charge


async def test_a_keyed_stream_that_breaks_midway_is_not_stored(chat_app, fake_gemini):
    fake_gemini.reply = "one two three four five six"
    fake_gemini.mode = "drop"
    status, chunks = await _read_stream(chat_app, "Break off", key="broken-1", clerk_id="unlucky")
    assert status == 200 and _events(b"".join(c for _, c in chunks))[-1][0] == "error"
    fake_gemini.mode = "ok"
    status, chunks = await _read_stream(chat_app, "Break off", key="broken-1", clerk_id="unlucky")
    got = _events(b"".join(c for _, c in chunks))
    assert [n for n, _ in got][-1] == "done" and got[-1][1]["credits_charged"] == 1
    assert fake_gemini.count("streamGenerateContent") == 2
    assert await _charges(chat_app, "unlucky") == ["charge", "charge", "refund"]
