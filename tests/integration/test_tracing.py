"""OpenTelemetry end to end: Muse under Hypercorn (a real process) exports OTLP/HTTP to a local receiver.

A caller's `traceparent` is continued by a chat request (Gemini over aiohttp, MongoDB, Redis spans)
and by an image request whose job (run by the in-process worker, Replicate over httpx) continues the
same trace; log lines of the request carry its `trace_id`.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from app.embedded import free_port
from tests.fakes.otlp import FakeOTLP
from tests.fixtures.identity import TEST_JWT_PUBLIC_PEM, make_token

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def otlp():
    fake = FakeOTLP().start()
    yield fake
    fake.stop()


def _spawn_server(servers, tmp_path, port: int, otlp: FakeOTLP, fake_gemini, fake_replicate, log_file):
    env = {
        **os.environ,
        "APP_ENV": "test", "MONGODB_URI": servers["mongodb_uri"], "REDIS_URL": servers["redis_url"],
        "MONGODB_DB": f"t_{uuid.uuid4().hex[:12]}", "QUEUE_NAME": f"muse:queue:{uuid.uuid4().hex[:8]}",
        "WORKER_IN_PROCESS": "true", "CLERK_JWT_KEY": TEST_JWT_PUBLIC_PEM, "RATE_LIMITS_ENABLED": "false",
        "CHAT_PROVIDERS": "gemini", "GEMINI_API_KEY": fake_gemini.api_key, "GEMINI_BASE_URL": fake_gemini.url,
        "IMAGE_PROVIDERS": "replicate", "REPLICATE_API_TOKEN": fake_replicate.token,
        "REPLICATE_BASE_URL": fake_replicate.url, "VAR_DIR": str(tmp_path / "var"),
        "MEDIA_DIR": str(tmp_path / "media"), "SIGNUP_CREDITS": "10", "LOG_LEVEL": "INFO",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    return subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log_file, stderr=subprocess.STDOUT)


async def _wait_live(client: httpx.AsyncClient, proc: subprocess.Popen, limit_s: float = 90) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            if (await client.get("/health/live")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the server did not start")


async def test_a_callers_trace_covers_chat_an_image_request_and_its_job(
        servers, tmp_path, otlp, fake_gemini, fake_replicate):
    port = free_port()
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    traceparent = f"00-{trace_id}-{caller_span}-01"
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log_file:  # noqa: ASYNC230 - before anything runs
        proc = _spawn_server(servers, tmp_path, port, otlp, fake_gemini, fake_replicate, log_file)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await _wait_live(client, proc)
            auth = {"Authorization": f"Bearer {make_token('trace_user')}", "traceparent": traceparent}
            chat = await client.post("/api/v1/chat", headers={**auth, "X-Request-ID": "trace-chat-1"},
                                     json={"messages": [{"role": "user", "content": "trace me"}]})
            assert chat.status_code == 200, chat.text
            image = await client.post("/api/v1/images", headers={**auth, "X-Request-ID": "trace-img-1"},
                                      json={"prompt": "a traced fox", "wait": True})
            assert image.status_code == 201, image.text

            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                names = {s.name for s in otlp.trace(trace_id)}
                if {"POST /api/v1/chat", "POST /api/v1/images", "job generate_image"} <= names:
                    break
                await asyncio.sleep(0.2)
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)

    spans = otlp.trace(trace_id)
    by_name = {s.name: s for s in spans}
    chat_span, image_span = by_name["POST /api/v1/chat"], by_name["POST /api/v1/images"]
    job_span = by_name["job generate_image"]
    # the caller's trace is continued: both requests are children of the caller's span
    assert chat_span.kind == image_span.kind == "SERVER"
    assert chat_span.parent_span_id == image_span.parent_span_id == caller_span
    assert chat_span.attributes["http.route"] == "/api/v1/chat"
    assert {s.service for s in spans} == {"muse"}

    def under(root) -> list:
        """Every span below `root` in this trace."""
        children, found, frontier = {}, [], [root.span_id]
        for s in spans:
            children.setdefault(s.parent_span_id, []).append(s)
        while frontier:
            for child in children.get(frontier.pop(), []):
                found.append(child)
                frontier.append(child.span_id)
        return found

    chat_tree = under(chat_span)
    systems = {s.attributes.get("db.system") or s.attributes.get("db.system.name") for s in chat_tree}
    assert {"mongodb", "redis"} <= systems, [(s.name, s.attributes) for s in chat_tree]
    provider_span = by_name["chat gemini"]  # the provider call, around the SDK's HTTP call
    assert provider_span in chat_tree and provider_span.attributes["muse.provider.outcome"] == "success"
    gemini_calls = [s for s in under(provider_span) if s.kind == "CLIENT" and fake_gemini.url.split("//")[1]
                    in json.dumps(s.attributes)]
    assert gemini_calls, [(s.name, s.attributes) for s in chat_tree]

    # the job started by the image request continues that request's trace, with its request ID
    assert job_span.kind == "CONSUMER"
    assert job_span in under(image_span)
    assert job_span.attributes["muse.request_id"] == "trace-img-1"
    job_tree = under(job_span)
    image_call = by_name["image replicate"]
    assert image_call in job_tree
    assert any(fake_replicate.url.split("//")[1] in json.dumps(s.attributes) for s in under(image_call)
               if s.kind == "CLIENT"), [(s.name, s.attributes) for s in job_tree]
    assert any((s.attributes.get("db.system") or s.attributes.get("db.system.name")) == "mongodb"
               for s in job_tree)

    # log lines carry the trace id (request and job alike)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line.get("request_id") in ("trace-chat-1", "trace-img-1")]
    assert request_lines and all(line.get("trace_id") == trace_id for line in request_lines), request_lines
    assert any(line.get("event") == "job_started" for line in request_lines)
