"""Wire fake of the OpenAI chat completions API for `AsyncOpenAI` (JSON and SSE streaming).

    fake = FakeOpenAI().start()            # OPENAI_BASE_URL=fake.url + "/v1", OPENAI_API_KEY=fake.api_key
    fake.mode = "ok" | "429" | "500" | "503" | "hang" | "drop" | "cut"   # see aiohttp_wire.py
    fake.cut_after = 0                     # stream pieces sent before drop/cut (default: half)
    fake.reply = "..."                     # the answer (streamed word by word)
    fake.limits                            # max tokens each call asked for (None: no limit)
                                           # (a limit below the reply's word count cuts it: "length")
    fake.count("/chat/completions")        # calls
    fake.images                            # (type, bytes) of every image_url part received, in order
                                           # (an image_url that is not an image data URL: 400, as the API)
    fake.calls[-1].body                    # what the last call sent (tools, stop, seed, response_format…)
    fake.count("/embeddings")              # embeddings calls (tests/fakes/embeddings.py: vectors, failures)

Every answer reports `usage` (prompt_tokens 5, one completion token per word); a stream sends it in a
last chunk without choices when asked (`stream_options.include_usage`), as the API does.

With `tools` the fake answers `tool_calls` (finish_reason "tool_calls"; streamed as OpenAI's
`delta.tool_calls` fragments: index, id and name first, then the arguments in pieces) unless the
messages end with a `tool` result or `tool_choice` is "none"; with `response_format` JSON it
answers JSON (tests/fakes/chat_semantics.py; `fake.json_reply` overrides it).

The images helper keeps its endpoints in tests/fakes/openai_images.py (a separate
server). To serve more endpoints from this one, subclass and extend `setup(app)`
(aiohttp routes). Shared knobs: tests/fakes/aiohttp_wire.py.
"""

from __future__ import annotations

import json

from aiohttp import web

from tests.fakes.aiohttp_wire import AiohttpWireFake
from tests.fakes.chat_semantics import json_text, tool_to_call
from tests.fakes.embeddings import openai_embed
from tests.fakes.gemini import words
from tests.fakes.vision import data_url_image

_CODES = {429: "rate_limit_exceeded", 500: "server_error", 503: "overloaded"}


class FakeOpenAI(AiohttpWireFake):
    """POST /v1/chat/completions."""

    def __init__(self, api_key: str = "sk-test") -> None:
        super().__init__()
        self.api_key = api_key
        self.reply = "Hello from OpenAI."

    @property
    def limits(self) -> list[int | None]:
        """The output-token limit each call asked for (None: none)."""
        return [c.body.get("max_completion_tokens", c.body.get("max_tokens")) for c in self.calls]

    @property
    def images(self) -> list[tuple[str, bytes]]:
        """(declared type, bytes) of each image part the calls carried."""
        found = []
        for call in self.calls:
            for part in _parts(call.body):
                if part.get("type") == "image_url":
                    image = data_url_image(str((part.get("image_url") or {}).get("url", "")))
                    if image is not None:
                        found.append(image)
        return found

    def setup(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self.completions)
        app.router.add_post("/v1/embeddings", lambda request: openai_embed(self, request))

    @staticmethod
    def _bad_image(body: dict) -> web.Response | None:
        """The API's 400 for an image part it cannot read (Muse sends data URLs only)."""
        for part in _parts(body):
            if part.get("type") != "image_url":
                continue
            url = str((part.get("image_url") or {}).get("url", ""))
            detail = (part.get("image_url") or {}).get("detail")
            if data_url_image(url) is None or detail not in (None, "auto", "low", "high"):
                error = {"message": "Invalid image.", "type": "invalid_request_error", "param": None,
                         "code": "invalid_image_format"}
                return web.json_response({"error": error}, status=400)
        return None

    def error_response(self, status: int) -> web.Response:
        """The API's error answer for `status` (the embeddings endpoint fails the same way)."""
        return self._error(status)

    @staticmethod
    def _error(status: int) -> web.Response:
        body = {"error": {"message": "fake failure", "type": "server_error", "code": _CODES.get(status),
                          "param": None}}
        return web.json_response(body, status=status)

    async def completions(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "bad key", "code": "invalid_api_key"}}, status=401)
        call, mode = await self.record(request)
        if (refused := self._bad_image(call.body)) is not None:
            return refused
        if mode in ("429", "500", "503"):
            return self._error(int(mode))
        if mode == "hang":
            return self._error(504)
        model = call.body.get("model", "gpt-4o-mini")
        limit = call.body.get("max_completion_tokens", call.body.get("max_tokens"))
        tool_call = self._tool_call(call.body)
        if tool_call is not None and mode == "ok":
            return await self._call_tool(request, call.body, model, tool_call)
        pieces = words(self._text(call.body))  # one word, one token
        finish = "stop"
        if limit is not None and limit < len(pieces):
            pieces, finish = pieces[:limit], "length"
        if mode == "garbled":  # 200 with JSON that is not the API's shape (a misbehaving proxy)
            if not call.body.get("stream"):
                return web.json_response({"choices": [{"message": None}], "usage": "n/a"})
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            await response.write(b'data: {"choices": "none"}\n\ndata: [1, 2]\n\n'
                                 b'data: {"choices": [{"delta": "x", "finish_reason": null}]}\n\n'
                                 b"data: [DONE]\n\n")
            await response.write_eof()
            return response
        if call.body.get("stream"):
            return await self._stream(request, mode, model, pieces, finish, call.body)
        if mode == "drop":
            self.drop(request)
            return web.Response()
        logprobs = None
        if call.body.get("logprobs"):  # one entry per token (a word here), with its alternatives
            top = call.body.get("top_logprobs") or 0
            logprobs = {"refusal": None, "content": [
                {"token": piece, "logprob": -0.5, "bytes": list(piece.encode()),
                 "top_logprobs": [{"token": piece, "logprob": -0.5, "bytes": list(piece.encode())}][:top]}
                for piece in pieces]}
        return web.json_response({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(pieces)},
                         "logprobs": logprobs, "finish_reason": None if mode == "cut" else finish}],
            "usage": {"prompt_tokens": 5, "completion_tokens": len(pieces), "total_tokens": 5 + len(pieces)},
        })

    def _text(self, body: dict) -> str:
        form = body.get("response_format") or {}
        if form.get("type") == "json_object":
            return json_text(None, self.reply, self.json_reply)
        if form.get("type") == "json_schema":
            return json_text((form.get("json_schema") or {}).get("schema"), self.reply, self.json_reply)
        return self.reply

    @staticmethod
    def _tool_call(body: dict) -> dict | None:
        tools = [(t["function"]["name"], t["function"].get("parameters") or {})
                 for t in body.get("tools") or []]
        choice = body.get("tool_choice")
        if isinstance(choice, dict):
            choice = choice["function"]["name"]
        messages = body.get("messages") or [{}]
        made = tool_to_call(tools, choice, answered=messages[-1].get("role") == "tool")
        if made is None:
            return None
        name, arguments = made
        return {"id": f"call_fake{len(messages)}", "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)}}

    async def _call_tool(self, request: web.Request, body: dict, model: str,
                         tool_call: dict) -> web.StreamResponse:
        if not body.get("stream"):
            message = {"role": "assistant", "content": None, "tool_calls": [tool_call]}
            return web.json_response({
                "id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000, "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        head = {"index": 0, "id": tool_call["id"], "type": "function",
                "function": {"name": tool_call["function"]["name"], "arguments": ""}}
        await response.write(self._chunk(model, {"role": "assistant", "tool_calls": [head]}, None))
        arguments = tool_call["function"]["arguments"]
        for at in range(0, len(arguments), 5):
            piece = {"index": 0, "function": {"arguments": arguments[at:at + 5]}}
            await response.write(self._chunk(model, {"tool_calls": [piece]}, None))
        await response.write(self._chunk(model, {}, "tool_calls"))
        await self._usage_chunk(response, body, model, 7)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _stream(self, request: web.Request, mode: str, model: str, pieces: list[str],
                      finish: str, body: dict) -> web.StreamResponse:
        async def tail(response: web.StreamResponse) -> None:  # finish_reason, usage, [DONE]
            await response.write(self._chunk(model, {}, finish))
            await self._usage_chunk(response, body, model, len(pieces))
            await response.write(b"data: [DONE]\n\n")

        def chunk(_index: int, piece: str) -> bytes:
            return self._chunk(model, {"content": piece}, None)

        return await self.stream_pieces(request, mode, pieces, chunk, tail)

    @staticmethod
    async def _usage_chunk(response: web.StreamResponse, body: dict, model: str, completion: int) -> None:
        """With `stream_options.include_usage`, the API's last chunk: no choices, the request's usage."""
        if not (body.get("stream_options") or {}).get("include_usage"):
            return
        chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000,
                 "model": model, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": completion,
                                          "total_tokens": 5 + completion}}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

    @staticmethod
    def _chunk(model: str, delta: dict, finish_reason: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000,
                 "model": model, "choices": [choice]}
        return f"data: {json.dumps(chunk)}\n\n".encode()


def _parts(body: dict) -> list[dict]:
    """The content parts of every message of a request (a string content has none)."""
    return [part for message in body.get("messages") or [] if isinstance(message.get("content"), list)
            for part in message["content"] if isinstance(part, dict)]
