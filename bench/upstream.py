"""A fake OpenAI-style chat upstream for `make bench`: answers after a fixed delay.

    python bench/upstream.py PORT DELAY_MS

POST /v1/chat/completions: JSON after DELAY_MS; with `"stream": true` the first delta comes
after DELAY_MS and the rest at once, then `data: [DONE]`. Any bearer key is accepted. It runs
in its own process (aiohttp), so its CPU time is measured apart from the servers under test.
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiohttp import web

WORDS = ["Hello", " from", " the", " bench", " upstream."]


def _chunk(model: str, delta: dict, finish: str | None) -> bytes:
    chunk = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def make_app(delay_s: float) -> web.Application:
    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = body.get("model", "gpt-4o-mini")
        await asyncio.sleep(delay_s)
        if body.get("stream"):
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            for word in WORDS:
                await response.write(_chunk(model, {"content": word}, None))
            tail = _chunk(model, {}, "stop")
            if (body.get("stream_options") or {}).get("include_usage"):
                tail += (
                    b"data: "
                    + json.dumps(
                        {
                            "id": "chatcmpl-bench",
                            "object": "chat.completion.chunk",
                            "created": 1700000000,
                            "model": model,
                            "choices": [],
                            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
                        }
                    ).encode()
                    + b"\n\n"
                )
            await response.write(tail + b"data: [DONE]\n\n")
            await response.write_eof()
            return response
        return web.json_response(
            {
                "id": "chatcmpl-bench",
                "object": "chat.completion",
                "created": 1700000000,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(WORDS)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
            }
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_get("/health", lambda request: web.Response(text="ok"))
    return app


if __name__ == "__main__":
    port, delay_ms = int(sys.argv[1]), float(sys.argv[2])
    web.run_app(make_app(delay_ms / 1000), host="127.0.0.1", port=port, print=None, access_log=None)
