"""OpenAI chat through the official SDK (`AsyncOpenAI`, `max_retries=0`, aiohttp transport)."""

# ruff: noqa: ASYNC109  (the port's `timeout` is also handed to the SDK, not only awaited)
from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from providers.chat import timed_stream, with_timeout
from services.chat.options import NO_OPTIONS, ChatOptions, ToolCall
from services.chat.ports import ChatCompletion, ChatMessage, Delta, LimitReached, ProviderError, StreamUsage

if TYPE_CHECKING:  # the SDK itself is imported with the client (~0.4 s of CPU, ~20 MB; issue 12)
    import openai
    from openai._types import RequestOptions

NAME = "openai"


def _map_error(exc: Exception) -> ProviderError:
    import openai

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APIStatusError):
        return ProviderError(NAME, f"HTTP {exc.status_code}", status=exc.status_code)
    return ProviderError(NAME, f"{type(exc).__name__}: {exc}")


def _first_choice(answer: Any) -> dict[str, Any] | None:
    """`choices[0]` of an answer or chunk as sent, or None (no choice, or not the API's shape)."""
    choices = answer.get("choices") if isinstance(answer, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    return choice if isinstance(choice, dict) else None


def _usage(answer: dict[str, Any]) -> tuple[int, int] | None:
    counts = answer.get("usage")
    if not isinstance(counts, dict):
        return None
    prompt, completion = counts.get("prompt_tokens"), counts.get("completion_tokens")
    return (prompt, completion) if isinstance(prompt, int) and isinstance(completion, int) else None


def _wire(m: ChatMessage) -> dict[str, Any]:
    """A message as the API takes it: images as `image_url` parts with data URLs (OpenAI does not
    fetch Muse's storage), after the text; an assistant turn's tool calls; a tool turn's call id."""
    wire: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.images:
        parts: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
        for image in m.images:
            url: dict[str, Any] = {"url": f"data:{image.mime};base64,{base64.b64encode(image.data).decode()}"}
            if image.detail:
                url["detail"] = image.detail
            parts.append({"type": "image_url", "image_url": url})
        wire["content"] = parts
    if m.tool_calls:
        wire["tool_calls"] = [call.as_dict() for call in m.tool_calls]
        wire["content"] = m.content or None
    if m.role == "tool":
        wire["tool_call_id"] = m.tool_call_id
    return wire


def wire_options(options: ChatOptions) -> dict[str, Any]:
    """The request's options as chat-completions body fields (unset ones left out)."""
    body: dict[str, Any] = {name: getattr(options, name) for name in (
        "top_p", "seed", "presence_penalty", "frequency_penalty", "reasoning_effort", "verbosity", "user",
        "safety_identifier", "parallel_tool_calls") if getattr(options, name) is not None}
    if options.stop:
        body["stop"] = list(options.stop)
    if options.logit_bias:
        body["logit_bias"] = dict(options.logit_bias)
    if options.tools:
        body["tools"] = [tool.as_dict() for tool in options.tools]
    if options.tool_choice is not None:
        body["tool_choice"] = (options.tool_choice if options.tool_choice in ("auto", "none", "required")
                               else {"type": "function", "function": {"name": options.tool_choice}})
    if options.response_format is not None:
        body["response_format"] = options.response_format.as_dict()
    if options.logprobs:
        body["logprobs"] = True
        if options.top_logprobs is not None:
            body["top_logprobs"] = options.top_logprobs
    return body


def _tool_calls(message: dict[str, Any]) -> list[ToolCall]:
    calls = []
    for raw in message.get("tool_calls") or []:
        function = raw.get("function") if isinstance(raw, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            arguments = function.get("arguments")
            calls.append(ToolCall(id=str(raw.get("id") or ""), name=function["name"],
                                  arguments=arguments if isinstance(arguments, str) else "{}"))
    return calls


class _Fragments:
    """Streamed `delta.tool_calls` fragments (index, id, name, argument pieces) put back together."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, delta: dict[str, Any]) -> None:
        for raw in delta.get("tool_calls") or []:
            if not isinstance(raw, dict):
                continue
            call = self._calls.setdefault(int(raw.get("index") or 0), {"id": "", "name": "", "arguments": ""})
            function = raw.get("function")
            function = function if isinstance(function, dict) else {}
            call["id"] = raw.get("id") or call["id"]
            call["name"] = function.get("name") or call["name"]
            call["arguments"] += function.get("arguments") or ""

    def calls(self) -> list[ToolCall]:
        return [ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"] or "{}")
                for _, c in sorted(self._calls.items()) if c["name"]]


class OpenAIChatProvider:
    """`ChatProvider` for OpenAI chat completions."""

    name = NAME
    lazy_sdk = "openai"  # imported on first use, or ahead of it in a thread once serving (app/startup.py)
    _stream_type: type[openai.AsyncStream[object]]  # set with the client

    def __init__(self, *, api_key: str, model: str, base_url: str | None = None) -> None:
        self.model = model
        self._api_key, self._base_url = api_key, base_url
        self._client: openai.AsyncOpenAI | None = None

    @property
    def client(self) -> openai.AsyncOpenAI:
        """One pooled client per provider, on the SDK's aiohttp transport (less CPU per call than
        httpx); made on first use, so start-up does not load the SDK."""
        if self._client is None:
            import openai

            self._stream_type = openai.AsyncStream[object]
            self._client = openai.AsyncOpenAI(api_key=self._api_key, base_url=self._base_url, max_retries=0,
                                              http_client=openai.DefaultAioHttpClient())
        return self._client

    @staticmethod
    def unsupported(options: ChatOptions) -> str | None:
        """OpenAI honours every option Muse accepts."""
        return None

    async def _post(self, messages: list[dict[str, Any]], temperature: float | None, timeout: float,
                    request_id: str | None, model: str | None = None, max_tokens: int | None = None,
                    *, stream: bool = False, options: ChatOptions = NO_OPTIONS) -> Any:
        """POST /chat/completions through the SDK's client (its auth, base URL, error types and SSE
        decoding) with a wire-shaped body, answers left as the JSON the API sent (`cast_to=object`).

        `create()` would transform the parameters into its TypedDicts and build a pydantic model of
        the answer and of every streamed chunk: ~7% and ~10% of an uncached chat's CPU (issue 12)
        for fields this adapter never reads."""
        client = self.client
        body: dict[str, Any] = {"model": model or self.model, "messages": messages, **wire_options(options)}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:  # the API's current name (`max_tokens` is deprecated, refused by o-series)
            body["max_completion_tokens"] = max_tokens
        sent: RequestOptions = {"timeout": timeout + 1, "security": {"bearer_auth": True}}
        if request_id:
            sent["headers"] = {"X-Request-ID": request_id}
        if stream:  # the last chunk then reports the tokens used (no choices), as a whole answer does
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
            return await client.post("/chat/completions", body=body, options=sent, cast_to=object,
                                     stream=True, stream_cls=self._stream_type)
        return await client.post("/chat/completions", body=body, options=sent, cast_to=object)

    async def complete(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None, max_tokens: int | None = None,
        options: ChatOptions = NO_OPTIONS,
    ) -> ChatCompletion:
        """The whole answer to `messages` (finish_reason "length": stopped at `max_tokens`;
        "tool_calls": the model asks for function calls)."""
        wire = [_wire(m) for m in messages]
        return await self._complete(wire, temperature, timeout, request_id, model, max_tokens, options)

    async def _complete(self, wire: list[dict[str, Any]], temperature: float | None, timeout: float,
                        request_id: str | None, model: str | None = None,
                        max_tokens: int | None = None, options: ChatOptions = NO_OPTIONS) -> ChatCompletion:
        async def call() -> ChatCompletion:
            response = await self._post(wire, temperature, timeout, request_id, model, max_tokens,
                                        options=options)
            choice = _first_choice(response)
            message = choice.get("message") if choice else None
            message = message if isinstance(message, dict) else {}
            content = message.get("content")
            content = content if isinstance(content, str) else ""
            calls = _tool_calls(message)
            if not content and not calls:
                raise ProviderError(NAME, "empty answer")
            finish = choice.get("finish_reason") if choice else None
            if not finish:  # a cut answer must not be charged or cached
                raise ProviderError(NAME, "answer without finish_reason (truncated)")
            return ChatCompletion(content=content, provider=NAME, model=model or self.model,
                                  usage=_usage(response), tool_calls=tuple(calls),
                                  logprobs=choice.get("logprobs") if choice and options.logprobs else None,
                                  finish_reason="tool_calls" if calls else "length" if finish == "length"
                                  else "stop")

        return await with_timeout(NAME, timeout, call, map_error=_map_error)

    async def stream(
        self, messages: list[ChatMessage], *, temperature: float | None, timeout: float,
        request_id: str | None, model: str | None = None, max_tokens: int | None = None,
        options: ChatOptions = NO_OPTIONS,
    ) -> AsyncIterator[Delta]:
        """The answer as text deltas and whole tool calls (put together from their fragments; a
        `LimitReached` last delta when stopped at `max_tokens`)."""
        wire = [_wire(m) for m in messages]

        async def chunks() -> AsyncIterator[Delta]:
            source = await with_timeout(NAME, timeout, lambda: self._post(
                wire, temperature, timeout, request_id, model, max_tokens, stream=True, options=options))
            finished = False  # the SDK stops on `[DONE]` and on a clean close alike: trust finish_reason
            limited = False
            fragments = _Fragments()
            usage = None
            async with source:
                async for chunk in source:
                    usage = (_usage(chunk) if isinstance(chunk, dict) else None) or usage
                    choice = _first_choice(chunk)
                    if choice is None:
                        continue
                    if choice.get("finish_reason"):
                        finished = True
                        limited = choice["finish_reason"] == "length"
                    delta = choice.get("delta")
                    content = delta.get("content") if isinstance(delta, dict) else None
                    if content and isinstance(content, str):
                        yield content
                    if isinstance(delta, dict):
                        fragments.add(delta)
            if not finished:
                raise ProviderError(NAME, "stream ended without finish_reason (truncated)")
            for tool_call in fragments.calls():
                yield tool_call
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
        """A text answer about one image (image sent as a data URL)."""
        data_url = f"data:{mime};base64,{base64.b64encode(image).decode()}"
        wire = [{"role": "user", "content": [
            {"type": "text", "text": instruction},
            {"type": "image_url", "image_url": {"url": data_url}},
        ]}]
        return await self._complete(wire, None, timeout, request_id)

    async def aclose(self) -> None:
        """Close the HTTP client (if one was made)."""
        if self._client is not None:
            await self._client.close()
