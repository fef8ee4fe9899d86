"""OpenAI's Responses API under /v1 (contract §12): the default of the OpenAI Agents SDK and of new
OpenAI code. A translation onto the one chat path (controllers/openai_responses.py)."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import document_response, validate_request

from app.openapi import event_stream
from app.routes.deps import container
from app.routes.openai_api import document_errors
from controllers.schemas.responses import ResponseCreateIn, ResponseDeletedOut, ResponseOut
from middlewares.access import require_role
from middlewares.idempotency import idempotent
from middlewares.policy import policy
from middlewares.request_id import current_request_id
from services.platform.principal import Role

bp = Blueprint("openai_responses", __name__)


@bp.post("/v1/responses")
@require_role(Role.USER)
@policy(feature="chat")
@idempotent
@validate_request(ResponseCreateIn)
@document_response(ResponseOut)  # documented, not validated: `stream` answers are SSE
@event_stream("With `\"stream\": true`: OpenAI's typed events (`event: response.created` … "
              "`response.output_text.delta`, `response.function_call_arguments.delta` … "
              "`response.completed`, or `response.failed`).")
@document_errors
async def create_response(data: ResponseCreateIn):
    """A model response through Muse's chat service (credits, cache, failover, refunds).

    `input` is a string or message / function_call / function_call_output items; function `tools`,
    `tool_choice`, `text.format` (json_schema, json_object), sampling, `previous_response_id` (the
    caller's own stored responses) and `store` (default true) are honoured; every other field of
    OpenAI's request is refused by name (400). Headers as chat completions (`X-Muse-*`)."""
    return await container().web.responses_controller.create(data, g.principal, current_request_id())


@bp.get("/v1/responses/<response_id>")
@require_role(Role.USER)
@policy()
@document_response(ResponseOut)
@document_errors
async def get_response(response_id: str):
    """One of the caller's stored responses (404 for any other id)."""
    return await container().web.responses_controller.retrieve(g.principal, response_id)


@bp.delete("/v1/responses/<response_id>")
@require_role(Role.USER)
@policy()
@document_response(ResponseDeletedOut)
@document_errors
async def delete_response(response_id: str):
    """Delete one of the caller's stored responses (404 for any other id)."""
    return await container().web.responses_controller.delete(g.principal, response_id)
