"""Wire fake of the Gemini Developer API for google-genai (`client.aio`).

    fake = FakeGemini().start()            # GEMINI_BASE_URL=fake.url, GEMINI_API_KEY=fake.api_key
    fake.mode = "ok" | "429" | "500" | "503" | "hang" | "drop" | "cut"   # see aiohttp_wire.py
    fake.cut_after = 0                     # stream pieces sent before drop/cut (default: half)
    fake.reply = "..."                     # the answer (streamed word by word)
    fake.limits                            # generationConfig.maxOutputTokens of each call (None: no limit)
                                           # (a limit below the reply's word count cuts it: MAX_TOKENS)
    fake.count("generateContent")          # calls (stream calls: "streamGenerateContent")
    fake.images                            # (mimeType, bytes) of every inlineData part received, in order
                                           # (inline data that is not such an image: 400 INVALID_ARGUMENT)

    fake.calls[-1].body                    # what the last call sent (generationConfig, tools, toolConfig…)
    fake.count("batchEmbedContents")       # embeddings calls (tests/fakes/embeddings.py: vectors, failures)

With `functionDeclarations` the fake answers a `functionCall` part (unless the contents end with
`functionResponse` parts or the mode is NONE); every answer and every streamed chunk carries
`usageMetadata` (one token per word of the prompt's texts and of the answer so far, as the API
counts a stream up to each chunk); with `responseMimeType` application/json it
answers JSON (tests/fakes/chat_semantics.py; `fake.json_reply` overrides it).
Routes on the `models/{model}:{method}` suffix so `/v1/` and `/v1beta/` both work.
See tests/fakes/aiohttp_wire.py for the shared knobs (script, delay_s, chunk_delay_s, calls).
"""

from __future__ import annotations

import json
import re

from aiohttp import web

from tests.fakes.aiohttp_wire import AiohttpWireFake
from tests.fakes.chat_semantics import json_text, tool_to_call
from tests.fakes.embeddings import gemini_embed
from tests.fakes.vision import decode_base64, sniff

_STATUS = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def camel_or_snake(node: dict, name: str):
    """A field by its JSON name or its proto name, both of which the API reads (google-genai 3.4 sends
    some fields, e.g. `parameters_json_schema`, `thinking_level`, in the proto form)."""
    return node.get(name, node.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)))


def words(text: str) -> list[str]:
    """Split into streamable pieces, keeping the whitespace."""
    return re.findall(r"\S+\s*", text) or [text]


class FakeGemini(AiohttpWireFake):
    """generateContent and streamGenerateContent (SSE)."""

    def __init__(self, api_key: str = "gm-test") -> None:
        super().__init__()
        self.api_key = api_key
        self.reply = "Hello from Gemini."

    @property
    def limits(self) -> list[int | None]:
        """The output-token limit each call asked for (None: none)."""
        return [(c.body.get("generationConfig") or {}).get("maxOutputTokens") for c in self.calls]

    @property
    def images(self) -> list[tuple[str, bytes]]:
        """(mimeType, bytes) of each inline image part the calls carried."""
        found = []
        for call in self.calls:
            for part in _parts(call.body):
                if not isinstance(part.get("inlineData"), dict):
                    continue
                blob = part["inlineData"]
                data = decode_base64(str(blob.get("data", "")), urlsafe=True)
                if data is not None:
                    found.append((_mime(blob), data))
        return found

    def setup(self, app: web.Application) -> None:
        app.router.add_post("/{version}/models/{target}", self.handle)

    @staticmethod
    def _bad_image(body: dict) -> web.Response | None:
        """The API's 400 for inline data it cannot read as the declared image type."""
        for part in _parts(body):
            if "inlineData" not in part:
                continue
            blob = part["inlineData"] or {}
            data = decode_base64(str(blob.get("data", "")), urlsafe=True)
            if data is None or sniff(data) != _mime(blob):
                error = {"code": 400, "message": "Unable to process input image.",
                         "status": "INVALID_ARGUMENT"}
                return web.json_response({"error": error}, status=400)
        return None

    def error_response(self, status: int) -> web.Response:
        """The API's error answer for `status` (the embeddings endpoint fails the same way)."""
        return self._error(status)

    @staticmethod
    def _error(status: int) -> web.Response:
        status_name = _STATUS.get(status, "UNKNOWN")
        body = {"error": {"code": status, "message": "fake failure", "status": status_name}}
        return web.json_response(body, status=status)

    @staticmethod
    def _chunk(text: str, *, last: bool = False, finish: str = "STOP", usage: dict | None = None) -> dict:
        candidate: dict = {"content": {"role": "model", "parts": [{"text": text}]}}
        if last:
            candidate["finishReason"] = finish
        return {"candidates": [candidate], **({"usageMetadata": usage} if usage else {})}

    @staticmethod
    def _usage(body: dict, answered: int) -> dict:
        """Gemini's `usageMetadata`: one token per word of the prompt's texts and of the answer so far
        (a stream's every chunk counts the whole prompt and the answer up to it, as the API does)."""
        turns = [*(body.get("contents") or []), body.get("systemInstruction") or {}]
        texts = [p.get("text") or "" for c in turns for p in c.get("parts") or []]
        prompt = sum(len(words(t)) for t in texts)
        return {"promptTokenCount": prompt, "candidatesTokenCount": answered,
                "totalTokenCount": prompt + answered}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        model, _, method = request.match_info["target"].partition(":")
        if request.headers.get("x-goog-api-key") != self.api_key:
            error = {"code": 401, "message": "bad key", "status": "UNAUTHENTICATED"}
            return web.json_response({"error": error}, status=401)
        if method in ("batchEmbedContents", "embedContent"):
            return await gemini_embed(self, request, model, method)
        call, mode = await self.record(request)
        if (refused := self._bad_image(call.body)) is not None:
            return refused
        config = call.body.get("generationConfig") or {}
        limit = config.get("maxOutputTokens")
        function_call = self._function_call(call.body)
        if function_call is not None and mode == "ok":
            content = {"role": "model", "parts": [{"functionCall": function_call}]}
            answer = {"candidates": [{"content": content, "finishReason": "STOP"}], "modelVersion": model,
                      "usageMetadata": self._usage(call.body, 7)}
            if method == "generateContent":
                return web.json_response(answer)
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            await response.write(f"data: {json.dumps(answer)}\r\n\r\n".encode())
            await response.write_eof()
            return response
        text = self.reply
        if config.get("responseMimeType") == "application/json":
            text = json_text(camel_or_snake(config, "responseJsonSchema") or config.get("responseSchema"),
                             self.reply, self.json_reply)
        pieces = words(text)  # one word, one token
        finish = "STOP"
        if limit is not None and limit < len(pieces):
            pieces, finish = pieces[:limit], "MAX_TOKENS"
        if mode in ("429", "500", "503"):
            return self._error(int(mode))
        if mode == "hang":
            return self._error(504)
        if method == "generateContent":
            if mode == "drop":
                self.drop(request)
                return web.Response()
            body = {**self._chunk("".join(pieces), last=mode != "cut", finish=finish,
                                  usage=self._usage(call.body, len(pieces))), "modelVersion": model}
            return web.json_response(body)
        if method == "streamGenerateContent":
            return await self._stream(request, mode, pieces, finish, call.body)
        return web.json_response({"error": {"code": 404, "message": "no such method"}}, status=404)

    @staticmethod
    def _function_call(body: dict) -> dict | None:
        declarations = [d for tool in body.get("tools") or [] for d in tool.get("functionDeclarations") or []]
        tools = [(d["name"], camel_or_snake(d, "parametersJsonSchema") or d.get("parameters") or {})
                 for d in declarations]
        calling = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
        allowed = calling.get("allowedFunctionNames") or []
        choice = allowed[0] if allowed else calling.get("mode")
        contents = body.get("contents") or [{}]
        answered = any("functionResponse" in part for part in contents[-1].get("parts") or [])
        made = tool_to_call(tools, choice, answered)
        return None if made is None else {"name": made[0], "args": made[1]}

    async def _stream(self, request: web.Request, mode: str, pieces: list[str],
                      finish: str, body: dict) -> web.StreamResponse:
        def chunk(index: int, piece: str) -> bytes:  # the last one carries finishReason
            data = json.dumps(self._chunk(piece, last=index == len(pieces) - 1, finish=finish,
                                          usage=self._usage(body, index + 1)))
            return f"data: {data}\r\n\r\n".encode()

        return await self.stream_pieces(request, mode, pieces, chunk)


def _parts(body: dict) -> list[dict]:
    """The parts of every content of a request."""
    return [part for content in body.get("contents") or [] for part in content.get("parts") or []
            if isinstance(part, dict)]


def _mime(blob: dict) -> str:
    """A blob's type: proto3 JSON accepts the field's own name and its lowerCamelCase form alike
    (google-genai 3.4 sends `mime_type` inside `inlineData`)."""
    return str(blob.get("mimeType") or blob.get("mime_type") or "")
