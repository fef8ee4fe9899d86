"""Provider wrappers that record every AI call in `muse_provider_calls_total` / `_latency_seconds`.

Wrapping the providers (once, in the composition root) measures every call
whichever failover path makes it (chat, streamed chat, vision, images), so
the services need no metric calls around their provider loops. Everything
else (`name`, `model`, `supports_edit`, SDK clients) is passed through.

With tracing on, each call is also a `<kind> <provider>` span (the SDK's HTTP
spans below it), carrying `muse.provider.outcome`.

Outcomes: `success`; `timeout` (the provider's own timeout); `error` (any
other provider failure); `cancelled` (the caller gave up first: the image
chain's overall deadline, a client that went away mid-stream).
"""

# ruff: noqa: ASYNC109  (the port's `timeout` is handed to the wrapped provider)
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from opentelemetry import trace

from services.chat.options import NO_OPTIONS, ChatOptions
from services.chat.ports import ChatCompletion, ChatMessage, ChatProvider, Delta, ProviderTimeout
from services.media.ports.images import ImageProvider, ImageRequest, ImageResult
from services.media.ports.videos import VideoProvider, VideoRequest, VideoResult
from services.platform.errors import UpstreamTimeout
from services.platform.ports.metrics import Metrics, ProviderKind, ProviderOutcome

T = TypeVar("T")
tracer = trace.get_tracer("muse.providers")


def _outcome(exc: BaseException) -> ProviderOutcome:
    if isinstance(exc, ProviderTimeout | UpstreamTimeout | TimeoutError):
        return "timeout"
    if isinstance(exc, asyncio.CancelledError | GeneratorExit):
        return "cancelled"
    return "error"


class _Instrumented:
    def __init__(self, inner: Any, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self.name: str = inner.name

    def __getattr__(self, item: str) -> Any:  # model, supports_edit, _client, ...
        return getattr(self._inner, item)

    def __repr__(self) -> str:
        return f"Instrumented({self._inner!r})"

    def _span(self, kind: ProviderKind, *, current: bool) -> Any:
        attributes = {"muse.provider.kind": kind, "muse.provider.name": self.name}
        name = f"{kind} {self.name}"
        if current:
            return tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT, attributes=attributes)
        return tracer.start_span(name, kind=trace.SpanKind.CLIENT, attributes=attributes)

    def _record(self, span: Any, kind: ProviderKind, outcome: ProviderOutcome, started: float) -> None:
        self._metrics.provider_call(kind, self.name, outcome, time.perf_counter() - started)
        span.set_attribute("muse.provider.outcome", outcome)

    async def _timed(self, kind: ProviderKind, call: Callable[[], Awaitable[T]]) -> T:
        started = time.perf_counter()
        with self._span(kind, current=True) as span:
            try:
                result = await call()
            except BaseException as exc:
                self._record(span, kind, _outcome(exc), started)
                raise
            self._record(span, kind, "success", started)
            return result


class InstrumentedChatProvider(_Instrumented):
    """A `ChatProvider` that records its calls (kind `chat`, or `vision` for describe_image)."""

    async def complete(self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
                       request_id: str | None, model: str | None = None,
                       max_tokens: int | None = None, options: ChatOptions = NO_OPTIONS) -> ChatCompletion:
        return await self._timed("chat", lambda: self._inner.complete(
            messages, temperature=temperature, timeout=timeout, request_id=request_id, model=model,
            max_tokens=max_tokens, options=options))

    def stream(self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
               request_id: str | None, model: str | None = None,
               max_tokens: int | None = None, options: ChatOptions = NO_OPTIONS) -> AsyncIterator[Delta]:
        return self._stream(self._inner.stream(messages, temperature=temperature, timeout=timeout,
                                               request_id=request_id, model=model, max_tokens=max_tokens,
                                               options=options))

    def unsupported(self, options: ChatOptions) -> str | None:
        return self._inner.unsupported(options)

    async def _stream(self, source: AsyncIterator[Delta]) -> AsyncIterator[Delta]:
        # The span is not made current: a generator's context would leak into its consumer.
        started, outcome = time.perf_counter(), "cancelled"
        span = self._span("chat", current=False)
        try:
            async for piece in source:
                yield piece
            outcome = "success"
        except BaseException as exc:
            outcome = _outcome(exc)
            raise
        finally:
            self._record(span, "chat", outcome, started)  # type: ignore[arg-type]
            span.end()
            close = getattr(source, "aclose", None)
            if close is not None:
                await close()

    async def describe_image(self, image: bytes, *, mime: str, instruction: str, timeout: float,
                             request_id: str | None) -> ChatCompletion:
        return await self._timed("vision", lambda: self._inner.describe_image(
            image, mime=mime, instruction=instruction, timeout=timeout, request_id=request_id))

    async def aclose(self) -> None:
        await self._inner.aclose()


class InstrumentedImageProvider(_Instrumented):
    """An `ImageProvider` that records its calls (kind `image`)."""

    async def generate(self, request: ImageRequest) -> ImageResult:
        return await self._timed("image", lambda: self._inner.generate(request))

    async def edit(self, request: ImageRequest) -> ImageResult:
        return await self._timed("image", lambda: self._inner.edit(request))


class InstrumentedVideoProvider(_Instrumented):
    """A `VideoProvider` that records its calls (kind `video`)."""

    async def generate(self, request: VideoRequest) -> VideoResult:
        return await self._timed("video", lambda: self._inner.generate(request))


def instrument_videos(providers: list[VideoProvider], metrics: Metrics) -> list[VideoProvider]:
    """The video providers wrapped (already wrapped ones are kept as they are)."""
    return [p if isinstance(p, _Instrumented) else InstrumentedVideoProvider(p, metrics)  # type: ignore[misc]
            for p in providers]


def instrument_chat(providers: list[ChatProvider], metrics: Metrics) -> list[ChatProvider]:
    """The chat providers wrapped (already wrapped ones are kept as they are)."""
    return [p if isinstance(p, _Instrumented) else InstrumentedChatProvider(p, metrics)  # type: ignore[misc]
            for p in providers]


def instrument_images(providers: list[ImageProvider], metrics: Metrics) -> list[ImageProvider]:
    """The image providers wrapped (already wrapped ones are kept as they are)."""
    return [p if isinstance(p, _Instrumented) else InstrumentedImageProvider(p, metrics)  # type: ignore[misc]
            for p in providers]
