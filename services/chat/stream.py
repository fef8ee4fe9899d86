"""Streaming chat: failover up to the first delta, then deltas, then done (or error + refund)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from typing import Any

import structlog

from services.chat.metering import meter_answer
from services.chat.models import ChatInput, Prepared
from services.chat.options import ToolCall
from services.chat.ports import (
    ChatCompletion,
    ChatProvider,
    Delta,
    FinishReason,
    LimitReached,
    ProviderError,
    ProviderTimeout,
    StreamUsage,
)
from services.chat.routing import honours
from services.chat.service import ChatService
from services.chat.structured import completion_problem
from services.credits.model import Receipt
from services.credits.ports import charged_call
from services.platform.coalesce import claim_or_wait
from services.platform.errors import UpstreamError
from services.platform.failover import Failure
from services.platform.rate_limit import settle_owed

log = structlog.stdlib.get_logger("muse.chat")

Event = tuple[str, Any]


class ChatStreamService:
    """The streaming chat use case, on top of the chat service's preparation, cache and credits."""

    def __init__(self, chat: ChatService) -> None:
        self.chat = chat

    async def stream(self, inp: ChatInput) -> tuple[dict[str, Any], AsyncIterator[Event]]:
        """(meta, events): failover happens before this returns; events are (name, data|AppError)."""
        return await open_stream(self.chat, inp)


async def open_stream(service: ChatService, inp: ChatInput) -> tuple[dict[str, Any], AsyncIterator[Event]]:
    """Cache hit → replayed stream; else charge, fail over until a provider yields its first delta."""
    prep = await service.prepare(inp)
    if inp.regenerate:
        await settle_owed()  # no cache look carries the rate-limit token
    # One round trip: the rate-limit token, the cached answer, or the coalescing lock.
    # A regeneration is a new answer: it neither reads the cache nor waits for identical requests.
    hit, held = ((None, False) if inp.regenerate
                 else await service.cache.claim(prep.key, ttl_ms=service.lock_ms))
    service.metrics.cache_request("hit" if hit is not None else "miss")
    if hit is None and not held and not inp.regenerate:
        # Identical requests in flight (any process, JSON or stream): wait for their cache fill.
        held, hit = await claim_or_wait(
            service.cache.store, prep.key.lock, lock_ttl_ms=service.lock_ms,
            check=lambda: service.cache.get(prep.key),
            claim=lambda: service.cache.claim(prep.key, ttl_ms=service.lock_ms))
    if hit is not None:
        await service.ensure_conversation(prep)
        return _meta(prep, hit.provider, hit.model, cached=True, charged=0), _replay(service, prep, hit)
    release = _CacheLock(service, prep, held)
    try:
        # The failover up to the first delta alongside the charge when the balance covers it well
        # (issue 28): nothing reaches the client before the charge has landed; a refused charge
        # cancels the failover, or closes the stream it had already opened.
        (provider, first, rest), receipt = await charged_call(
            service.credits, service.charge_of(prep), lambda: _first_delta(service, prep),
            refund_reason="provider_failed", request_id=inp.request_id,
            discard=lambda opened: _close(opened[2]))
        try:
            await service.ensure_conversation(prep)
        except BaseException:
            await _close(rest)
            await service.credits.refund_or_owe(receipt, reason="provider_failed", request_id=inp.request_id)
            raise
    except BaseException:
        await release()
        raise
    meta = _meta(prep, provider.name, service.model_for(prep.model, provider), cached=False,
                 charged=receipt.amount)

    async def settle_unstarted() -> None:
        await release()
        await service.refund(receipt, prep, reason="client_disconnected")

    return meta, _Events(_relay(service, prep, provider, first, rest, receipt, release), settle_unstarted)


_SETTLING: set[asyncio.Task[None]] = set()  # strong references to safety-net tasks until they finish


class _Events:
    """The relay's events, settled even if the client leaves before the first one is taken.

    A generator that never started never runs its `finally`: if the client goes away between
    `meta` and the first delta (or before the body is sent at all), the relay would keep the
    charge and the coalescing lock. Closing or dropping this iterator unstarted refunds the
    charge (nothing was served) and releases the lock."""

    def __init__(self, relay: AsyncGenerator[Event, None],
                 settle: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._relay, self._settle = relay, settle
        self._started = False
        self._loop = asyncio.get_running_loop()

    def __aiter__(self) -> _Events:
        return self

    async def __anext__(self) -> Event:
        self._started = True
        return await anext(self._relay)

    async def aclose(self) -> None:
        """Close the relay (settling the charge if no event was ever taken)."""
        if not self._started:
            self._started = True
            await self._settle()
        await self._relay.aclose()

    def __del__(self) -> None:
        if self._started or self._loop.is_closed():
            return
        self._started = True
        settle, loop = self._settle, self._loop

        def schedule() -> None:
            task = loop.create_task(settle())
            _SETTLING.add(task)
            task.add_done_callback(_SETTLING.discard)

        loop.call_soon_threadsafe(schedule)


class _CacheLock:
    """The coalescing lock of a led stream: released once, by `publish` (with the answer, in the
    same round trip) or by calling it."""

    def __init__(self, service: ChatService, prep: Prepared, held: bool) -> None:
        self._service, self._prep, self._held = service, prep, held

    async def publish(self, answer: ChatCompletion) -> None:
        """Cache `answer` and release the lock (if still held)."""
        held, self._held = self._held, False
        await self._service.cache.put(self._prep.key, answer, unlock=held)

    async def __call__(self) -> None:
        if self._held:
            self._held = False
            await self._service.cache.store.release(self._prep.key.lock)


def _meta(prep: Prepared, provider: str, model: str, *, cached: bool, charged: int) -> dict[str, Any]:
    conversation_id = prep.conversation.id if prep.conversation else None
    return {"id": prep.message_id, "conversation_id": conversation_id, "provider": provider, "model": model,
            "cached": cached, "credits_charged": charged}


async def _first_delta(service: ChatService, prep: Prepared
                       ) -> tuple[ChatProvider, Delta, AsyncIterator[Delta]]:
    """The chat failover up to the first delta (text or a tool call); the success is recorded once
    the stream ends well. Providers that cannot honour the request's options are skipped."""
    async def first_delta(provider: ChatProvider, seconds: float) -> tuple[Delta, AsyncIterator[Delta]]:
        source = aiter(provider.stream(list(prep.context), temperature=prep.inp.temperature,
                                       timeout=seconds, request_id=prep.inp.request_id,
                                       model=service.model_for(prep.model, provider),
                                       max_tokens=prep.inp.max_tokens, options=prep.inp.options))
        try:
            first = await anext(source)
            if isinstance(first, StreamUsage) or (isinstance(first, LimitReached) and not first):
                # usage alone, or stopped before any text: no answer
                raise ProviderError(provider.name, "empty answer (stopped at max_tokens)")
            return first, source
        except StopAsyncIteration:
            raise ProviderError(provider.name, "empty stream") from None

    provider, (first, rest) = await service.failover.run(first_delta, record_success=False,
                                                         only=honours(prep.inp.options))
    return provider, first, rest


async def _close(stream: AsyncIterator[Delta]) -> None:
    """Let go of a provider stream (its connection) that will not be read to the end."""
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()


def tool_call_event(index: int, call: ToolCall) -> Event:
    """The `tool_call` event of a stream (contract §18)."""
    return "tool_call", {"index": index, "id": call.id, "name": call.name, "arguments": call.arguments}


async def _replay(service: ChatService, prep: Prepared, hit: ChatCompletion) -> AsyncIterator[Event]:
    if hit.content or not hit.tool_calls:
        for piece in re.findall(r"\S+\s*|\s+", hit.content) or [hit.content]:
            yield "delta", {"content": piece}
    for index, call in enumerate(hit.tool_calls):
        yield tool_call_event(index, call)
    conversation_id = await service.store(prep, hit, cached=True, charged=0)
    yield "done", _done(prep.message_id, conversation_id, 0, hit.finish_reason)


def _done(message_id: str, conversation_id: str | None, charged: int, finish: FinishReason) -> dict[str, Any]:
    """The `done` event; `finish_reason` only when it is not "stop" (`max_tokens`, tool calls)."""
    done: dict[str, Any] = {"id": message_id, "conversation_id": conversation_id, "credits_charged": charged}
    if finish != "stop":
        done["finish_reason"] = finish
    return done


async def _relay(service: ChatService, prep: Prepared, provider: ChatProvider, first: Delta,
                 rest: AsyncIterator[Delta], receipt: Receipt,
                 release: _CacheLock) -> AsyncGenerator[Event, None]:
    parts: list[str] = []
    calls: list[ToolCall] = []
    finish: FinishReason = "stop"
    outcome = "abandoned"  # until the first delta has been handed to the client
    usage: tuple[int, int] | None = None  # as the provider reported it at the end (else estimated)

    def take(delta: Delta) -> Event | None:
        nonlocal finish, usage
        if isinstance(delta, StreamUsage):
            usage = (delta.tokens_in, delta.tokens_out)
            return None
        if isinstance(delta, ToolCall):
            calls.append(delta)
            return tool_call_event(len(calls) - 1, delta)
        if isinstance(delta, LimitReached):
            finish = "length"
        if not delta:
            return None
        parts.append(delta)
        return "delta", {"content": delta}

    try:
        event = take(first)
        if event is not None:
            yield event
        outcome = "stopped"  # the client has an answer from here on: leaving early is the Stop button
        try:
            async for delta in rest:
                event = take(delta)
                if event is not None:
                    yield event
            problem = completion_problem("".join(parts), prep.inp.options, has_tool_calls=bool(calls))
            if problem is not None:
                raise ProviderError(provider.name, f"incomplete answer: {problem}")
        except ProviderError as exc:
            outcome = "failed"
            timed_out = isinstance(exc, ProviderTimeout)
            await service.failover.failed(provider, Failure(provider.name, exc, timed_out=timed_out))
            await service.refund(receipt, prep, reason="stream_broken")
            if prep.created and prep.conversation is not None:
                await service.conversations.delete(prep.conversation.id, owner_id=prep.inp.user_id)
            incomplete = str(exc).partition("incomplete answer: ")[2]
            yield "error", UpstreamError(
                f"The answer was incomplete ({incomplete}); the charge was refunded." if incomplete else
                "The provider stopped answering mid-stream; the charge was refunded.")
            return
        outcome = "done"
        await service.failover.succeeded(provider)
        answer = ChatCompletion(content="".join(parts), provider=provider.name,
                                model=service.model_for(prep.model, provider),
                                finish_reason="tool_calls" if calls else finish, tool_calls=tuple(calls))
        await release.publish(answer)
        await meter_answer(service.meter, prep, answer, usage)
        charged = receipt.amount
        conversation_id = await service.store(prep, answer, cached=False, charged=charged)
        yield "done", _done(prep.message_id, conversation_id, charged, answer.finish_reason)
    finally:
        await release()
        if outcome == "abandoned":  # gone before any answer reached it: nothing was served
            await service.refund(receipt, prep, reason="client_disconnected")
        elif outcome == "stopped":
            await _keep_stopped(service, prep, provider, "".join(parts), receipt, tuple(calls), usage)
        await _close(rest)


async def _keep_stopped(service: ChatService, prep: Prepared, provider: ChatProvider, partial: str,
                        receipt: Receipt, calls: tuple[ToolCall, ...] = (),
                        usage: tuple[int, int] | None = None) -> None:
    """The client stopped reading after deltas reached it: it was served, so the charge stands.

    The partial answer is kept in the conversation marked `stopped` (it is what the user saw),
    never cached (it is not a whole answer). A provider failure, by contrast, is refunded.
    """
    log.info("chat_stream_stopped", provider=provider.name, chars=len(partial), charged=receipt.amount)
    answer = ChatCompletion(content=partial, provider=provider.name,
                            model=service.model_for(prep.model, provider), tool_calls=calls)
    try:
        await meter_answer(service.meter, prep, answer, usage)  # what the provider answered (estimated)
        await service.store(prep, answer, cached=False, charged=receipt.amount, status="stopped")
    except Exception as exc:  # noqa: BLE001 - the charge is already right; a lost transcript must not mask it
        log.warning("chat_stopped_store_failed", error=type(exc).__name__)
