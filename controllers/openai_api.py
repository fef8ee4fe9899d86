"""OpenAI-compatible endpoints (contract §12): OpenAI shapes in and out, Muse's own services inside.

No second path: chat goes through `ChatService.complete` / `ChatService.stream`
(cache, coalescing, credits, failover, breaker) with `store=False`, images
through `ImageService.submit` / `submit_edit` and `wait` (queue, credits,
refunds, gallery). This module only translates.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import replace
from typing import Any

import orjson
from quart import Response

from controllers.chat_fields import check_options, openai_fail, refuse_fields
from controllers.images import failure_problem
from controllers.openai_errors import ModelNotFound, error_body
from controllers.schemas.base import validate_fields
from controllers.schemas.chat_options import to_options, tool_calls_of
from controllers.schemas.openai import (
    AssistantMessageIn,
    ChatCompletionIn,
    ImageEditForm,
    ImageGenerationIn,
    ToolMessageIn,
)
from controllers.sse import stream_response
from controllers.uploads import checked_files, read_form
from services.chat.choices import complete_choices
from services.chat.content import ParsedContent, parse_content
from services.chat.models import ChatInput
from services.chat.openai_compat import Usage, aspect_ratio_for_size, estimate_usage, usage_of
from services.chat.options import ToolCall
from services.chat.ports import ChatCompletion, MessageRole
from services.chat.service import ChatService
from services.chat.stream import ChatStreamService
from services.embeddings.service import EmbeddingService
from services.media.image_models import Caller, EditInput, GenerateInput, ImageRecord
from services.media.images import ImageService
from services.platform import key_limits
from services.platform.catalog import Catalog
from services.platform.errors import AppError, BadRequest, UpstreamTimeout, ValidationFailed
from services.platform.principal import Principal
from services.platform.uploads import CheckedUpload

Answer = tuple[dict[str, Any], int, dict[str, str]]


def muse_headers(*, charged: int, cached: bool, provider: str | None) -> dict[str, str]:
    """The `X-Muse-*` headers of a /v1 answer."""
    headers = {"X-Muse-Credits-Charged": str(charged), "X-Muse-Cached": "true" if cached else "false"}
    if provider:
        headers["X-Muse-Provider"] = provider
    return headers


def event_stream(body: AsyncIterator[bytes], meta: dict[str, Any]) -> Response:
    """A streamed /v1 answer (`text/event-stream`, never buffered or timed out) with the `X-Muse-*`
    headers of its `meta` event."""
    response = stream_response(body)
    response.headers.update(muse_headers(charged=int(meta.get("credits_charged", 0)),
                                         cached=bool(meta["cached"]), provider=meta["provider"]))
    return response


_ROLES: dict[str, MessageRole] = {
    "system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}

Turn = tuple[MessageRole, ParsedContent]
ToolFields = dict[str, Any]  # a turn's tool_calls, or a tool turn's tool_call_id and name


def chat_turns(body: ChatCompletionIn) -> tuple[list[Turn], list[ToolFields]]:
    """OpenAI messages as Muse chat turns (`developer` is a system turn; empty assistant turns without
    tool calls dropped), their content parts read (services/chat/content.py: a bad part is a 400
    naming it), and each turn's tool fields (assistant tool calls; a tool result's call id)."""
    turns: list[Turn] = []
    tools: list[ToolFields] = []
    names: dict[str, str] = {}
    for index, message in enumerate(body.messages):
        role = _ROLES[message.role]
        parsed = parse_content(message.content, ("messages", index, "content"), openai=True)
        if isinstance(message, ToolMessageIn):
            if parsed.images:
                raise BadRequest("A tool message's content is text.", param=f"messages.{index}.content")
            turns.append((role, parsed))
            tools.append({"tool_call_id": message.tool_call_id, "name": names.get(message.tool_call_id)})
            continue
        calls = tool_calls_of(message.tool_calls) if isinstance(message, AssistantMessageIn) else ()
        names.update((call.id, call.name) for call in calls)
        if not parsed.text.strip() and not parsed.images and not calls:
            if message.role == "assistant":
                continue
            raise BadRequest("Message content must not be empty.", param=f"messages.{index}.content")
        turns.append((role, parsed))
        tools.append({"tool_calls": calls})
    if not any(role != "system" for role, _parsed in turns):
        raise BadRequest("At least one user or assistant message with content is needed.", param="messages")
    return turns, tools


def _message_out(content: str, calls: tuple[ToolCall, ...]) -> dict[str, Any]:
    """`choices[].message`: content is null when the answer is only tool calls (as OpenAI sends it)."""
    message: dict[str, Any] = {"role": "assistant", "content": content if content or not calls else None,
                               "refusal": None}
    if calls:
        message["tool_calls"] = [call.as_dict() for call in calls]
    return message


FRAGMENT_CHARS = 32  # argument text per `delta.tool_calls` chunk, as OpenAI streams it in pieces


def tool_call_fragments(event: dict[str, Any]) -> list[dict[str, Any]]:
    """A `tool_call` event as OpenAI's stream fragments: index, id and name first, then the arguments."""
    index, arguments = event["index"], event["arguments"]
    fragments: list[dict[str, Any]] = [{"index": index, "id": event["id"], "type": "function",
                                        "function": {"name": event["name"], "arguments": ""}}]
    fragments += [{"index": index, "function": {"arguments": arguments[at:at + FRAGMENT_CHARS]}}
                  for at in range(0, len(arguments), FRAGMENT_CHARS)]
    return fragments


def _sse(data: dict[str, Any], *, event: str | None = None) -> bytes:
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + orjson.dumps(data) + b"\n\n"


class OpenAIController:
    """HTTP ⇄ ChatService / ImageService in OpenAI's shapes."""

    def __init__(self, chat: ChatService, streams: ChatStreamService, images: ImageService, catalog: Catalog,
                 *, max_upload_mb: float, status_of: Callable[[AppError], int],
                 embeddings: EmbeddingService | None = None) -> None:
        self._chat, self._streams, self._images, self._catalog = chat, streams, images, catalog
        self._embeddings = embeddings
        self._library = images.library
        self._status_of = status_of
        self._max_mb = max_upload_mb
        self._created = int(time.time())

    async def _offered(self, principal: Principal) -> dict[str, dict[str, Any]]:
        """The models the caller can use now, by id, each with what it answers (`capabilities`): the chat
        models their role allows, the image models and the embedding models, leaving out what a live
        switch turned off (a feature or a provider), a provider not configured here, and what the
        caller's API key may not use (its scopes and models)."""
        offered: dict[str, dict[str, Any]] = {}
        limits = key_limits.current()

        def add(names: list[str], capability: str, scope: str) -> None:
            if limits is not None and scope not in limits.scopes:
                return
            for name in names:
                if limits is not None and limits.models is not None and name not in limits.models:
                    continue
                entry = offered.setdefault(name, {"id": name, "object": "model", "created": self._created,
                                                  "owned_by": "muse", "capabilities": []})
                entry["capabilities"].append(capability)

        add(await self._chat.offered_models(principal.role), "chat", "chat")
        add(await self._library.offered_models(), "images", "images")
        if self._embeddings is not None:
            add(await self._embeddings.offered(principal.role), "embeddings", "embeddings")
        return offered

    async def models(self, principal: Principal) -> dict[str, Any]:
        """Exactly the models the caller can use (contract §12), each with its `capabilities`."""
        return {"object": "list", "data": list((await self._offered(principal)).values())}

    async def model(self, principal: Principal, model_id: str) -> dict[str, Any]:
        """One model the caller can use; 404 `model_not_found` otherwise."""
        found = (await self._offered(principal)).get(model_id)
        if found is None:
            raise ModelNotFound(f"The model {model_id!r} does not exist or you do not have access to it; "
                                "GET /v1/models lists yours.", param="model")
        return found

    # --- chat ----------------------------------------------------------------------------
    async def chat_input(self, body: ChatCompletionIn, principal: Principal, request_id: str) -> ChatInput:
        refuse_fields({name: getattr(body, name) for name in body.model_fields_set}, openai_fail)
        if self._catalog.chat_model(body.model) is None:
            raise ModelNotFound(f"The model {body.model!r} does not exist; GET /v1/models lists the models.",
                                param="model")
        turns, tools = chat_turns(body)
        options = to_options(body)
        read = await self._chat.read_messages(turns, user_id=principal.require_user_id(), openai=True)
        messages = [replace(message, **fields) for message, fields in zip(read, tools, strict=True)]
        check_options(options, messages, openai_fail)
        return ChatInput(user_id=principal.require_user_id(), plan=principal.plan, messages=messages,
                         model=body.model, temperature=body.temperature, store=False,
                         request_id=request_id, role=principal.role,
                         max_tokens=body.max_completion_tokens or body.max_tokens, options=options)

    async def chat_completions(self, body: ChatCompletionIn, principal: Principal,
                               request_id: str) -> Answer | Response:
        """A `chat.completion` object, or a stream of `chat.completion.chunk` events ending in `[DONE]`."""
        inp = await self.chat_input(body, principal, request_id)
        if body.stream and (body.n or 1) > 1:
            raise BadRequest("`n` is not supported above 1 when streaming: a stream carries one choice.",
                             param="n")
        if body.stream and body.logprobs:
            raise BadRequest("`logprobs` is not supported when streaming; ask without `stream`.",
                             param="logprobs")
        if body.stream:
            return await self._stream(body, inp)
        if (body.n or 1) > 1:
            reply, answers = await complete_choices(self._chat, inp, body.n or 1)
        else:
            reply = await self._chat.complete(inp)
            answers = [ChatCompletion(content=reply.content, provider=reply.provider, model=reply.model,
                                      usage=reply.usage, finish_reason=reply.finish_reason,
                                      tool_calls=reply.tool_calls, logprobs=reply.logprobs)]
        prompt = [(m.role, m.content) for m in inp.messages]
        usages = [usage_of(a.usage, prompt, a.content) for a in answers]
        usage = Usage(prompt_tokens=usages[0].prompt_tokens,
                      completion_tokens=sum(u.completion_tokens for u in usages))
        answer = {
            "id": f"chatcmpl-{reply.id}", "object": "chat.completion", "created": int(time.time()),
            "model": body.model,
            "choices": [{"index": index, "logprobs": a.logprobs, "finish_reason": a.finish_reason,
                         "message": _message_out(a.content, a.tool_calls)}
                        for index, a in enumerate(answers)],
            "usage": usage.as_dict(), "system_fingerprint": None,
        }
        return answer, 200, muse_headers(charged=reply.credits_charged, cached=reply.cached,
                                         provider=reply.provider)

    async def _stream(self, body: ChatCompletionIn, inp: ChatInput) -> Response:
        meta, events = await self._streams.stream(inp)
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        base = {"id": f"chatcmpl-{meta['id']}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body.model, "system_fingerprint": None}
        prompt = [(m.role, m.content) for m in inp.messages]

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            data = {**base, "choices": [choice]}
            return _sse({**data, "usage": None} if include_usage else data)

        async def stream() -> AsyncIterator[bytes]:
            parts: list[str] = []
            finish = "stop"
            yield chunk({"role": "assistant", "content": ""})
            async with aclosing(events):  # type: ignore[type-var]
                async for name, data in events:
                    if isinstance(data, AppError):  # the provider broke mid-answer; the charge was refunded
                        body = error_body(data, inp.request_id, status=self._status_of(data))
                        yield _sse(body, event="error")
                        return
                    if name == "delta":
                        parts.append(data["content"])
                        yield chunk({"content": data["content"]})
                    elif name == "tool_call":
                        parts.append(data["name"] + data["arguments"])
                        for fragment in tool_call_fragments(data):
                            yield chunk({"tool_calls": [fragment]})
                    elif name == "done":
                        finish = data.get("finish_reason", "stop")  # "length", "tool_calls"
            yield chunk({}, finish)
            if include_usage:
                usage = estimate_usage(prompt, "".join(parts)).as_dict()
                yield _sse({**base, "choices": [], "usage": usage})
            yield b"data: [DONE]\n\n"

        return event_stream(stream(), meta)

    # --- images --------------------------------------------------------------------------
    def _image_model(self, name: str | None) -> str:
        model = name or "default"
        if model not in self._library.model_names():
            raise ModelNotFound(f"The image model {model!r} does not exist; GET /v1/models lists the models.",
                                param="model")
        return model

    async def image_generations(self, body: ImageGenerationIn, principal: Principal,
                                request_id: str) -> Answer:
        """Generate, wait for the job (IMAGE_TIMEOUT_S), answer `{"created", "data"}`."""
        if body.stream:  # refused before anything is charged: the answer would never be streamed
            raise BadRequest("Streamed image generation (`stream: true`) is not supported; send the request "
                             "without `stream` to get the finished images as JSON.", param="stream")
        if body.partial_images:
            raise BadRequest("Partial images are not supported (they need `stream: true`); leave "
                             "`partial_images` out.", param="partial_images")
        model = self._image_model(body.model)
        ratio = aspect_ratio_for_size(body.size)
        if ratio is None:
            raise BadRequest("`size` must be WIDTHxHEIGHT (e.g. 1024x1024) or auto.", param="size")
        caller = Caller(user_id=principal.require_user_id(), plan=principal.plan, request_id=request_id)
        record = await self._images.submit(caller, GenerateInput(
            prompt=body.prompt, aspect_ratio=ratio, num_outputs=body.n or 1, model=model,
            output_format=body.output_format or "png"))
        return await self._finished(caller, record, b64=body.response_format == "b64_json")

    async def image_edits(self, principal: Principal, request_id: str) -> Answer:
        """Edit an uploaded `image` (optional `mask`), wait for the job, answer like generations."""
        fields, uploads = await self._multipart()
        if "image" not in uploads:
            raise ValidationFailed(errors=[{"loc": ["image"], "msg": "send an image file"}])
        model = self._image_model(fields.model)
        caller = Caller(user_id=principal.require_user_id(), plan=principal.plan, request_id=request_id)
        record = await self._images.submit_edit(caller, EditInput(
            prompt=fields.prompt, image=uploads["image"], mask=uploads.get("mask"), num_outputs=fields.n or 1,
            model=model, output_format=fields.output_format or "png"))
        return await self._finished(caller, record, b64=fields.response_format == "b64_json")

    async def _multipart(self) -> tuple[ImageEditForm, dict[str, CheckedUpload]]:
        form, files = await read_form(self._max_mb)
        fields = validate_fields(ImageEditForm, {k: v for k, v in form.items() if v != ""})
        return fields, checked_files(files, ("image", "mask"), max_mb=self._max_mb, list_parts=True)

    async def _finished(self, caller: Caller, record: ImageRecord, *, b64: bool) -> Answer:
        record = await self._library.wait(record.id)
        if record.status == "failed":
            raise failure_problem(record)
        if record.status != "completed":
            raise UpstreamTimeout(f"The image is still being generated; it will appear as {record.id} in "
                                  "GET /api/v1/images.", image_id=record.id)
        data: list[dict[str, Any]] = []
        for index, output in enumerate(record.outputs):
            if b64:
                upload = await self._library.source_upload(caller, record.id, index=index)
                data.append({"b64_json": base64.b64encode(upload.data).decode(), "revised_prompt": None})
            else:
                data.append({"url": output.url, "revised_prompt": None})
        headers = muse_headers(charged=record.credits_charged, cached=False, provider=record.provider)
        return {"created": int(record.created_at.timestamp()), "data": data}, 200, headers
