"""Per-request CPU of Muse's ASGI app without any HTTP server: calls the app in-process.

    .venv/bin/python bench/asgi_profile.py [live|me|hit|hit_stored|uncached|stream] [N] [--profile]

Starts nx-27017 + Redis (bench/harness.py), builds the app as `python -m app serve` does (rate
limits on, access logs at INFO to /dev/null) and drives N sequential requests through its ASGI
callable; prints the Redis and MongoDB commands per request, CPU µs per request (and a cProfile
summary with --profile, sorted by SORT=tottime|cumtime; PROFILE_OUT=file also saves it). CONC=32
counts the commands per request over requests from 32 concurrent callers (what batches and merges).
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import logging
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import bench_servers  # noqa: E402

UNIQUE = iter(range(10**9))


async def call(app, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:  # type: ignore[no-untyped-def]
    if body in (b"unique", b"unique-stream"):
        question = {"role": "user", "content": f"q {next(UNIQUE)}"}
        stream = body == b"unique-stream"
        body = json.dumps({"messages": [question], "store": False, "stream": stream}).encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    sent = False
    status = 0
    done = asyncio.Event()

    async def receive():  # type: ignore[no-untyped-def]
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):  # type: ignore[no-untyped-def]
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await app(scope, receive, send)
    return status


async def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "me"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    with bench_servers() as servers:
        os.environ.update(servers.env(RATE_LIMITS_ENABLED="true", LOG_LEVEL="INFO",
                                      RATE_LIMIT_PLANS=json.dumps({"free": [10**9, 10**9]})))
        if kind in ("uncached", "stream"):
            from tests.fakes.openai import FakeOpenAI

            fake = FakeOpenAI().start()
            os.environ.update(CHAT_PROVIDERS="openai", OPENAI_API_KEY=fake.api_key,
                              OPENAI_BASE_URL=fake.url + "/v1")
        from pymongo import monitoring

        mongo_ops: list[str] = []
        mongo_us: dict[str, list[int]] = {}

        class Count(monitoring.CommandListener):
            def started(self, event):  # type: ignore[no-untyped-def]
                mongo_ops.append(f"{event.command_name}:{event.command.get(event.command_name)}")

            def succeeded(self, event):  # type: ignore[no-untyped-def]
                mongo_us.setdefault(event.command_name, []).append(event.duration_micros)

            def failed(self, event):  # type: ignore[no-untyped-def]
                pass

        monitoring.register(Count())
        from app import create_app
        from app.config import load_settings

        app = create_app(load_settings())
        logging.getLogger().handlers[0].stream = open(os.devnull, "w")  # noqa: SIM115, ASYNC230
        await app.startup()
        token = servers.token("prof_user")
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = b""
        method, path = "GET", "/api/v1/me"
        if kind == "live":
            path, auth = "/health/live", {}
        elif kind in ("uncached", "stream"):
            method, path, body = "POST", "/api/v1/chat", b"unique" if kind == "uncached" else b"unique-stream"
        elif kind.startswith("hit"):
            method, path = "POST", "/api/v1/chat"
            body = json.dumps({"messages": [{"role": "user", "content": "hi"}],
                               "store": kind == "hit_stored"}).encode()
        assert await call(app, "GET", "/api/v1/me", {"Authorization": f"Bearer {token}"}) == 200
        # Creating the user left a 5 s tombstone on its cache entry (repositories/users.py):
        # let it lapse, or every measured request would miss the user cache as no steady load does.
        await asyncio.sleep(5.5)
        if kind in ("uncached", "stream"):
            await app.extensions["container"].credits.service.grant(
                (await app.extensions["container"].identity.users.ensure_clerk_user("prof_user")).id, 10**8,
                ref="prof", reason="bench", request_id=None)
        for _ in range(200):
            status = await call(app, method, path, auth, body)
            assert status == 200, status
        import redis.asyncio as aioredis

        counter = aioredis.from_url(os.environ["REDIS_URL"])
        calls_before = await counter.info("commandstats")
        mongo_before = len(mongo_ops)
        conc = int(os.environ.get("CONC", "1"))  # the counted requests from CONC concurrent callers
        counted = 100 if conc == 1 else 25 * conc

        async def caller() -> None:
            for _ in range(counted // conc):
                await call(app, method, path, auth, body)

        await asyncio.gather(*(caller() for _ in range(conc)))
        calls_after = await counter.info("commandstats")
        diff = {k: calls_after[k]["calls"] - calls_before.get(k, {"calls": 0})["calls"] for k in calls_after}
        print("redis commands per request:", {k: round(v / counted, 3) for k, v in diff.items() if v})
        from collections import Counter as Tally

        print("mongo commands per request:",
              {k: round(v / counted, 3) for k, v in Tally(mongo_ops[mongo_before:]).items()})
        profiler = cProfile.Profile() if "--profile" in sys.argv else None
        mongo_us.clear()
        began, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for _ in range(n):
            await call(app, method, path, auth, body)
        if profiler:
            profiler.disable()
        took, wall = time.process_time() - began, time.perf_counter() - wall
        print(f"{kind}: {took / n * 1e6:.0f} µs CPU and {wall / n * 1e6:.0f} µs wall per request"
              f" (in-process, no server, {n} sequential requests)")
        if mongo_us:
            print("mongo median µs per command (round trip):",
                  {k: sorted(v)[len(v) // 2] for k, v in mongo_us.items()})
        if profiler and os.environ.get("PROFILE_OUT"):
            profiler.dump_stats(os.environ["PROFILE_OUT"])
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("SORT", "tottime")).print_stats(60)
            print(out.getvalue()[-9000:])
        await app.shutdown()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
