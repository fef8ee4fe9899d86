"""Wire fake of the OpenAI images endpoints (/v1/images/generations and /v1/images/edits).

    fake = FakeOpenAIImages().start()   # fake.url + "/v1" → OPENAI_BASE_URL
    fake.mode = "ok" | "fail" (400) | "5xx" | "429" | "hang"
    fake.generations, fake.edits        # counters
    fake.requests                       # (path, parsed body) per call

Answers `{"created": ..., "data": [{"b64_json": ...}]}` with real images at
the requested size (edits: the size of the uploaded image).
"""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

from PIL import Image

from providers.local_images import draw
from tests.fakes.http_server import FakeHTTPServer, parse_multipart


class FakeOpenAIImages(FakeHTTPServer):
    """gpt-image-1 generate and edit, b64_json outputs."""

    def __init__(self, api_key: str = "sk-test") -> None:
        super().__init__()
        self.api_key = api_key
        self.generations = self.edits = 0
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._error(401, "Incorrect API key provided", "invalid_api_key")
        if method == "POST" and path == "/v1/images/generations":
            params = json.loads(body or b"{}")
            with self.lock:
                self.generations += 1
                self.requests.append((path, params))
            return self._answer(params, None)
        if method == "POST" and path == "/v1/images/edits":
            params = parse_multipart(headers.get("Content-Type", ""), body)
            with self.lock:
                self.edits += 1
                self.requests.append((path, params))
            return self._answer(params, params.get("image") or params.get("image[]"))
        return self._error(404, "Not found", "not_found")

    def _answer(self, params: dict[str, Any], source: bytes | None) -> tuple[int, dict[str, str], bytes]:
        if self.mode == "hang":
            self.hang()
        if self.mode == "fail":
            return self._error(400, "Your request was rejected by the safety system.", "moderation_blocked")
        if self.mode == "429":
            return self._error(429, "Rate limit reached", "rate_limit_exceeded")
        if self.mode == "5xx":
            return self._error(500, "The server had an error", "server_error")
        if source:
            with Image.open(io.BytesIO(source)) as img:
                width, height = img.size
        else:
            width, height = (int(v) for v in str(params.get("size", "1024x1024")).split("x"))
        fmt = params.get("output_format", "png")
        data = [
            {
                "b64_json": base64.b64encode(
                    draw(str(params.get("prompt")), width=width, height=height, seed=i, fmt=fmt)
                ).decode()
            }
            for i in range(int(params.get("n", 1)))
        ]
        return self.json(
            200,
            {
                "created": int(time.time()),
                "data": data,
                "output_format": fmt,
                "usage": {"input_tokens": 10, "output_tokens": 100, "total_tokens": 110},
            },
        )

    def _error(self, status: int, message: str, code: str) -> tuple[int, dict[str, str], bytes]:
        return self.json(
            status,
            {"error": {"message": message, "type": "invalid_request_error", "code": code, "param": None}},
            {"x-should-retry": "false"},
        )
