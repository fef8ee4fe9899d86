"""Credits routes (contract §3): the caller's credits object and ledger."""

from __future__ import annotations

from quart import Blueprint, Response, g, request
from quart_schema import validate_querystring, validate_response

from app.openapi import answers
from app.routes.deps import container
from controllers.schemas.common import CreditsOut
from controllers.schemas.credits import LedgerPageOut, LedgerQuery
from controllers.schemas.usage import UsageOut, UsageQuery
from middlewares.access import require_role
from middlewares.policy import policy
from services.platform.principal import Role

bp = Blueprint("credits", __name__)


@bp.get("/api/v1/credits")
@require_role(Role.USER)
@policy()
@validate_response(CreditsOut)
async def get_credits():
    """Today's allowance, the gift quota, the balance and what is spendable now."""
    return await container().credits.controller.summary(g.principal)


@bp.get("/api/v1/credits/ledger")
@require_role(Role.USER)
@policy()
@validate_querystring(LedgerQuery)
@validate_response(LedgerPageOut)
async def get_ledger(query_args: LedgerQuery):
    """The caller's ledger entries, newest first (`?limit=1..100&cursor=`)."""
    return await container().credits.controller.ledger(g.principal, query_args)


@bp.get("/api/v1/usage")
@require_role(Role.USER)
@policy()
@validate_querystring(UsageQuery)
@answers(200, UsageOut, description="The report (JSON), or its rows as CSV with `Accept: text/csv`.")
async def get_usage(query_args: UsageQuery):
    """The caller's usage per UTC day, kind, model or API key (`?from&to&group_by`; at most 366 days):
    requests, credits net of refunds, refunded credits, tokens, images and video seconds, with totals.
    `Accept: text/csv` answers the same rows as CSV."""
    wants_csv = request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"
    answer = await container().credits.usage_controller.usage(g.principal, query_args, csv=wants_csv)
    if wants_csv:
        body, status, headers = answer
        return Response(body, status=status, headers=headers)
    return UsageOut.model_validate(answer).model_dump(by_alias=True)
