"""Gemini chat through google-genai (`client.aio`, aiohttp transport, no SDK retries)."""

# ruff: noqa: ASYNC109  (the port's `timeout` is also handed to the SDK, not only awaited)
from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from google import genai
from google.genai import errors, types

from providers import gemini_translate as translate
from providers.chat import split_system, timed_stream, with_timeout
from services.chat.options import NO_OPTIONS, ChatOptions
from services.chat.ports import (
    ChatCompletion,
    ChatMessage,
    Delta,
    FinishReason,
    LimitReached,
    ProviderError,
    StreamUsage,
)

NAME = "gemini"


def _usage(response: types.GenerateContentResponse) -> tuple[int, int] | None:
    """(prompt, answer) tokens from `usageMetadata` (thinking tokens are billed as output), or None."""
    meta = response.usage_metadata
    if meta is None or meta.prompt_token_count is None:
        return None
    return meta.prompt_token_count, (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)


def _finished(response: types.GenerateContentResponse) -> bool:
    """Whether a (chunk of a) response carries Gemini's end marker, `finishReason`."""
    return any(c.finish_reason and c.finish_reason != types.FinishReason.FINISH_REASON_UNSPECIFIED
               for c in response.candidates or [])


def _limited(response: types.GenerateContentResponse) -> bool:
    """Whether Gemini stopped at `max_output_tokens` (finishReason MAX_TOKENS: a whole, short answer)."""
    return any(c.finish_reason == types.FinishReason.MAX_TOKENS for c in response.candidates or [])


def _map_error(exc: Exception) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, errors.APIError):
        return ProviderError(NAME, f"{exc.code} {exc.status or ''}".strip(), status=exc.code)
    return ProviderError(NAME, f"{type(exc).__name__}: {exc}")


_RECLAIM_AFTER_S = 0.1
_reclaiming: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()  # a collection is due


def reclaim_abandoned_response() -> None:
    """Close the HTTP response of a stream let go before its end, soon, once per burst.

    google-genai 3.4 reads a stream through nested async generators that do not close the ones
    they read from, and its `HttpResponse` and the generator reading it reference each other: the
    response (so the connection, so the generation Google bills) stays open until a garbage
    collection finds that cycle. Closing our generator cannot reach it, so one collection runs
    0.1 s later (the chain of generator finalizers has run by then); with the start-up objects
    frozen (app/startup.py) it walks only what was made since."""
    loop = asyncio.get_running_loop()
    if loop in _reclaiming:
        return

    def collect() -> None:
        _reclaiming.discard(loop)
        gc.collect()

    _reclaiming.add(loop)
    loop.call_later(_RECLAIM_AFTER_S, collect)


class GeminiChatProvider:
    """`ChatProvider` for the Gemini Developer API."""

    name = NAME

    def __init__(self, *, api_key: str, model: str, base_url: str | None = None) -> None:
        self.model = model
        options: dict[str, Any] = {"retry_options": {"attempts": 1}}
        if base_url:
            options["base_url"] = base_url
        self._client = genai.Client(api_key=api_key, http_options=types.HttpOptions(**options))

    def _config(self, system: str | None, temperature: float | None, timeout: float,
                request_id: str | None, max_tokens: int | None = None,
                options: ChatOptions = NO_OPTIONS) -> types.GenerateContentConfig:
        headers = {"X-Request-ID": request_id} if request_id else None
        http = types.HttpOptions(headers=headers, timeout=int(timeout * 1000) + 1000)
        return translate.config(options, system=system, temperature=temperature, max_tokens=max_tokens,
                                http=http)

    @staticmethod
    def unsupported(options: ChatOptions) -> str | None:
        """`logit_bias` (and `parallel_tool_calls: false`) have no Gemini equivalent."""
        return translate.unsupported(options)

    async def complete(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None, max_tokens: int | None = None,
        options: ChatOptions = NO_OPTIONS,
    ) -> ChatCompletion:
        """The whole answer to `messages` (finish reason "length": stopped at `max_tokens`;
        "tool_calls": Gemini answered `functionCall` parts)."""
        system, turns = split_system(messages)
        used = model or self.model

        async def call() -> ChatCompletion:
            response = await self._client.aio.models.generate_content(
                model=used, contents=translate.contents(turns),
                config=self._config(system, temperature, timeout, request_id, max_tokens, options))
            text, calls = translate.text_of(response), translate.tool_calls(response)
            if not text and not calls:
                raise ProviderError(NAME, "empty answer")
            if not _finished(response):  # a cut answer must not be charged or cached
                raise ProviderError(NAME, "answer without finishReason (truncated)")
            usage = _usage(response)
            finish: FinishReason = "tool_calls" if calls else "length" if _limited(response) else "stop"
            return ChatCompletion(content=text, provider=NAME, model=used, usage=usage,
                                  finish_reason=finish, tool_calls=tuple(calls))

        return await with_timeout(NAME, timeout, call, map_error=_map_error)

    async def stream(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None, max_tokens: int | None = None,
        options: ChatOptions = NO_OPTIONS,
    ) -> AsyncIterator[Delta]:
        """The answer as text deltas and tool calls (a `LimitReached` last delta when stopped at
        `max_tokens`)."""
        system, turns = split_system(messages)

        async def chunks() -> AsyncIterator[Delta]:
            models = self._client.aio.models
            source = await with_timeout(NAME, timeout, lambda: models.generate_content_stream(
                model=model or self.model, contents=translate.contents(turns),
                config=self._config(system, temperature, timeout, request_id, max_tokens, options)))
            finished = limited = False  # a clean close without finishReason is a cut stream, not an answer
            usage = None  # each chunk's usageMetadata counts the stream so far; the last one is the whole
            try:
                async for chunk in source:
                    usage = _usage(chunk) or usage
                    finished = finished or _finished(chunk)
                    limited = limited or _limited(chunk)
                    text = translate.text_of(chunk)
                    if text:
                        yield text
                    for tool_call in translate.tool_calls(chunk):
                        yield tool_call
            except (GeneratorExit, asyncio.CancelledError):  # let go early (Stop, a refused charge)
                reclaim_abandoned_response()
                raise
            finally:
                close = getattr(source, "aclose", None)  # typed AsyncIterator; an async generator
                if close is not None:
                    await close()
            if not finished:
                raise ProviderError(NAME, "stream ended without finishReason (truncated)")
            if usage is not None:  # before the end mark: a stream stopped at max_tokens ends with it
                yield StreamUsage(*usage)
            if limited:
                yield LimitReached("")

        # Closed with this generator: a stream let go early closes the provider's connection.
        async with aclosing(timed_stream(NAME, timeout, chunks(), map_error=_map_error)) as deltas:
            async for delta in deltas:
                yield delta

    async def describe_image(
        self, image: bytes, *, mime: str, instruction: str, timeout: float, request_id: str | None
    ) -> ChatCompletion:
        """A text answer about one image."""

        async def call() -> ChatCompletion:
            response = await self._client.aio.models.generate_content(
                model=self.model,
                contents=[types.Content(role="user", parts=[
                    types.Part.from_bytes(data=image, mime_type=mime), types.Part(text=instruction)])],
                config=self._config(None, None, timeout, request_id))
            if not response.text:
                raise ProviderError(NAME, "empty answer")
            if not _finished(response):
                raise ProviderError(NAME, "answer without finishReason (truncated)")
            return ChatCompletion(content=response.text, provider=NAME, model=self.model,
                                  usage=_usage(response))

        return await with_timeout(NAME, timeout, call, map_error=_map_error)

    async def aclose(self) -> None:
        """Close the aiohttp sessions of the SDK."""
        await self._client.aio.aclose()
