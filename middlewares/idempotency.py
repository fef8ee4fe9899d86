"""`@idempotent`: `Idempotency-Key` support for POSTs that spend credits or money (contract §1).

Place it directly under the access decorator and above quart-schema's validation:

    @bp.post("/api/v1/images")
    @require_role(Role.USER)
    @idempotent
    @validate_request(GenerateIn)
    async def generate(data: GenerateIn): ...

Without the header the view runs as usual. With it, the key is claimed for
the principal (MongoDB, 24 h): the first response with status < 500 (errors
included) is stored and replayed byte for byte, with the same `Location`,
`X-Muse-*` and `x-should-retry` headers and `Idempotent-Replayed: true`; a
different method/path/query/body → 422 `idempotency_mismatch` (400 under /v1);
while the first request still runs → 409 `idempotency_in_flight`. A 5xx or an
unexpected exception releases the key so the client can retry. A streamed
answer (e.g. SSE) is passed through chunk by chunk as it is produced while a
copy accumulates; the copy is stored once the stream has been sent in full,
and a replay returns the whole stream at once. A stream that breaks (raises,
the client goes away, or an SSE stream ends with an `event: error`, e.g. the
provider stopped mid-answer and the charge was refunded) releases the key
instead of storing a partial body.

`install(app, service)` gives the app its `IdempotencyService` (the factory does it once).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from quart import Quart, Response, current_app, g, request
from quart.wrappers.response import IterableBody
from werkzeug.wrappers.response import Response as WerkzeugResponse

from services.platform.errors import AppError
from services.platform.idempotency import IdempotencyService, canonical_body, fingerprint
from services.platform.rate_limit import settle_owed

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
IDEMPOTENT_ATTR = "_muse_idempotent"  # read by the OpenAPI document (app/openapi.py)
_SERVICE = "muse.idempotency"  # this middleware's own slot in app.extensions


def install(app: Quart, service: Callable[[], IdempotencyService]) -> None:
    """Give `@idempotent` views of `app` their idempotency service."""
    app.extensions[_SERVICE] = service


def _service() -> IdempotencyService:
    service: Callable[[], IdempotencyService] = current_app.extensions[_SERVICE]
    return service()


def _scope() -> str:
    principal = g.principal
    return principal.user_id or principal.api_key_id or principal.rate_key


def _ends_in_error(content_type: str, body: bytes) -> bool:
    """An SSE stream whose last event is `error` failed part-way (contract §4)."""
    if not content_type.startswith("text/event-stream"):
        return False
    last = body.strip().replace(b"\r\n", b"\n").rsplit(b"\n\n", 1)[-1]
    return any(line.strip() == b"event: error" for line in last.splitlines())


def replayed_headers(response: Response | WerkzeugResponse) -> dict[str, str]:
    """The headers of `response` that its replays repeat (`Location`, `X-Muse-*`, `x-should-retry`)."""
    return {name: value for name, value in response.headers.items()
            if name.lower() in ("location", "x-should-retry") or name.lower().startswith("x-muse-")}


def _served(content_type: str, body: bytes) -> bool:
    """An SSE stream that delivered at least one `delta` (the chat service charges it when stopped)."""
    return content_type.startswith("text/event-stream") and b"event: delta" in body


def _tee(response: Response, service: Any, scope: str, key: str) -> None:
    """Forward each chunk as it comes while keeping a copy; store it once the stream ended well."""
    source, status = response.response, response.status_code
    content_type = response.content_type or "application/octet-stream"
    headers = replayed_headers(response)

    async def stream() -> Any:
        chunks: list[bytes] = []
        finished = gone = False
        try:
            async with source as body:
                async for chunk in body:
                    chunks.append(chunk.encode() if isinstance(chunk, str) else chunk)
                    yield chunk
            finished = True
        except (asyncio.CancelledError, GeneratorExit):
            gone = True  # the client stopped reading (Stop button, closed tab)
            raise
        finally:
            whole = b"".join(chunks)
            whole_answer = finished and not _ends_in_error(content_type, whole)
            if whole_answer or (gone and _served(content_type, whole)):
                # whole, or stopped by the client after an answer reached it (charged): a retry with
                # this key replays what was sent instead of charging again
                await service.complete(scope, key, status=status, content_type=content_type,
                                       body=whole.decode(errors="replace"), headers=headers)
            else:  # broken, failed, or abandoned before any answer: let a retry run again
                await service.abandon(scope, key)

    response.response = IterableBody(stream())


def idempotent(fn: F) -> F:
    """Make a POST view replay its first response for a repeated `Idempotency-Key`."""

    @functools.wraps(fn)
    async def view(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return await fn(*args, **kwargs)
        await settle_owed()  # the rate-limit token before any record (a refusal leaves none)
        service = _service()
        scope = _scope()
        raw = await request.get_data()
        # key order, spacing, boundary don't matter
        body = canonical_body(request.content_type, raw if isinstance(raw, bytes) else raw.encode())
        stored = await service.begin(scope, key, fingerprint(request.method, request.path,
                                                            request.query_string, body))
        if stored is not None:
            replay = Response(stored.body or "", status=stored.status, content_type=stored.content_type)
            if stored.location:
                replay.headers["Location"] = stored.location
            replay.headers.update(stored.headers)
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = await current_app.make_response(await fn(*args, **kwargs))
        except AppError as error:  # rendered by the app's problem handler (app/problems.py)
            response = await current_app.make_response(await current_app.handle_user_exception(error))
        except BaseException:
            await service.abandon(scope, key)
            raise
        if response.status_code >= 500:
            await service.abandon(scope, key)
            return response
        if isinstance(response.response, IterableBody):
            _tee(response, service, scope, key)  # a stream: store it once it has been sent in full
            return response
        await service.complete(scope, key, status=response.status_code,
                               body=await response.get_data(as_text=True),  # type: ignore[misc]
                               content_type=response.content_type or "application/json",
                               headers=replayed_headers(response))
        return response

    setattr(view, IDEMPOTENT_ATTR, True)
    return view  # type: ignore[return-value]
