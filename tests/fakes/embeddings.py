"""The embeddings endpoints of the Gemini and OpenAI wire fakes (tests/fakes/gemini.py, openai.py).

    Gemini  POST /{version}/models/{model}:batchEmbedContents   (google-genai `embed_content`, API-key mode)
    OpenAI  POST /v1/embeddings                                  (openai `embeddings.create`)

Both behave as the real APIs do where Muse can tell: vectors are a deterministic function of the
text (the same text, the same vector), shortened the way each provider shortens them (OpenAI
shortens and re-normalises; Gemini cuts and leaves a shortened vector un-normalised, only its
full 3072-dimension vectors have length 1); OpenAI answers `base64` (little-endian float32) when
asked, and the SDK asks by default; usage is counted by OpenAI only (one token per word here, so
it differs from Muse's own estimate). They fail as the real ones do: an unknown model is a 404,
Gemini takes at most 100 requests per batch and 128–3072 dimensions, OpenAI at most 2048 inputs,
8192 tokens per input and its model's dimensions, an empty input is a 400 for both; `mode`
("429", "500", "503", "hang") as for chat. What they received is in `fake.calls` (`dimensions`,
`outputDimensionality`, `user`, `encoding_format`...).
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.gemini import FakeGemini
    from tests.fakes.openai import FakeOpenAI

GEMINI_MODELS = {"gemini-embedding-001": 3072}
OPENAI_MODELS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072,
                 "text-embedding-ada-002": 1536}
GEMINI_BATCH = 100


def unit(vector: list[float]) -> list[float]:
    norm = math.hypot(*vector)
    return [x / norm for x in vector]


def _raw(text: str, size: int) -> tuple[tuple[int, ...], float]:
    """Deterministic numbers for `text` (SHAKE-256 read as signed 16-bit) and their norm."""
    raw = struct.unpack(f"<{size}h", hashlib.shake_256(text.encode()).digest(size * 2))
    return raw, math.hypot(*raw)


def full_vector(text: str, size: int, keep: int | None = None) -> list[float]:
    """The first `keep` (default all) values of the provider's full-size unit vector of `text`."""
    raw, norm = _raw(text, size)
    return [x / norm for x in raw[:keep]]


def float32(values: list[float]) -> list[float]:
    """Values at float32 precision, as the APIs send them."""
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def openai_vector(text: str, size: int, dimensions: int | None) -> list[float]:
    return float32(unit(full_vector(text, size, dimensions)) if dimensions else full_vector(text, size))


def gemini_vector(text: str, size: int, dimensions: int | None) -> list[float]:
    return full_vector(text, size, dimensions)


def _gemini_error(code: int, status: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, "status": status}}, status=code)


def _text_of(request: dict[str, Any]) -> str:
    parts = (request.get("content") or {}).get("parts") or []
    return "".join(str(p.get("text") or "") for p in parts if isinstance(p, dict))


async def gemini_embed(fake: FakeGemini, request: web.Request, model: str, method: str) -> web.Response:
    """`models/{model}:batchEmbedContents` (and `:embedContent`, one content)."""
    call, mode = await fake.record(request)
    if mode in ("429", "500", "503"):
        return fake.error_response(int(mode))
    if mode == "hang":
        return fake.error_response(504)
    if model not in GEMINI_MODELS:
        return _gemini_error(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta, or is "
                                               f"not supported for {method}.")
    requests = call.body.get("requests") if method == "batchEmbedContents" else [call.body]
    if not isinstance(requests, list) or not requests:
        return _gemini_error(400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: required")
    if len(requests) > GEMINI_BATCH:
        return _gemini_error(400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: at most 100 "
                                                      "requests can be in one batch")
    values = []
    for index, item in enumerate(requests):
        if method == "batchEmbedContents" and item.get("model") != f"models/{model}":
            message = f"* BatchEmbedContentsRequest.requests[{index}].model: must match the URL's model"
            return _gemini_error(400, "INVALID_ARGUMENT", message)
        text = _text_of(item)
        if not text:
            return _gemini_error(400, "INVALID_ARGUMENT", f"* BatchEmbedContentsRequest.requests[{index}]."
                                                          "content: must not be empty")
        dimensions = item.get("outputDimensionality")
        if dimensions is not None and not 128 <= dimensions <= GEMINI_MODELS[model]:
            return _gemini_error(400, "INVALID_ARGUMENT", "output_dimensionality must be between 128 and "
                                                          f"{GEMINI_MODELS[model]}")
        values.append({"values": gemini_vector(text, GEMINI_MODELS[model], dimensions)})
    if method == "embedContent":
        return web.json_response({"embedding": values[0]})
    return web.json_response({"embeddings": values})


def _openai_error(status: int, message: str, *, param: str | None = None, code: str | None = None,
                  kind: str = "invalid_request_error") -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "param": param, "code": code}},
                             status=status)


async def openai_embed(fake: FakeOpenAI, request: web.Request) -> web.Response:
    """POST /v1/embeddings."""
    if request.headers.get("Authorization") != f"Bearer {fake.api_key}":
        return _openai_error(401, "Incorrect API key provided.", code="invalid_api_key")
    call, mode = await fake.record(request)
    if mode in ("429", "500", "503"):
        return fake.error_response(int(mode))
    if mode == "hang":
        return fake.error_response(504)
    body = call.body
    model = body.get("model")
    if model not in OPENAI_MODELS:
        return _openai_error(404, f"The model `{model}` does not exist or you do not have access to it.",
                             code="model_not_found")
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
        return _openai_error(400, "'$.input' is invalid. Please check the API reference: "
                                  "https://platform.openai.com/docs/api-reference.")
    if len(texts) > 2048:
        return _openai_error(400, "'$.input' is invalid: at most 2048 inputs.", param="input")
    for text in texts:
        if math.ceil(len(text) / 4) > 8192:
            return _openai_error(400, "This model's maximum context length is 8192 tokens.", param="input")
    size, dimensions = OPENAI_MODELS[model], body.get("dimensions")
    if dimensions is not None and model == "text-embedding-ada-002":
        return _openai_error(400, "This model does not support specifying dimensions.", param="dimensions")
    if dimensions is not None and not 1 <= dimensions <= size:
        return _openai_error(400, f"Invalid value for 'dimensions' = {dimensions}. Must be less than or "
                                  f"equal to {size}.", param="dimensions")
    b64 = body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        vector = openai_vector(text, size, dimensions)
        encoded: Any = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode() if b64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(len(t.split()) for t in texts)
    return web.json_response({"object": "list", "data": data, "model": model,
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
