"""Credits routes (contract §3): the caller's credits object and ledger."""

from __future__ import annotations

from quart import Blueprint, Response, g, request
from quart_schema import validate_querystring, validate_response

from app.openapi import answers
from app.routes.deps import container
from controllers.schemas.common import CreditsOut, entry_out
from controllers.schemas.credits import LedgerPageOut, LedgerQuery
from controllers.schemas.usage import UsageQuery, UsageReportOut
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
    return await container().credits.service.summary(g.principal.require_user_id(), plan=g.principal.plan)


@bp.get("/api/v1/credits/ledger")
@require_role(Role.USER)
@policy()
@validate_querystring(LedgerQuery)
@validate_response(LedgerPageOut)
async def get_ledger(query_args: LedgerQuery):
    """The caller's ledger entries, newest first (`?limit=1..100&cursor=`)."""
    items, cursor = await container().credits.service.ledger(g.principal.require_user_id(),
                                                             limit=query_args.limit, cursor=query_args.cursor)
    return {"items": [entry_out(op) for op in items], "next_cursor": cursor}


@bp.get("/api/v1/usage")
@require_role(Role.USER)
@policy()
@validate_querystring(UsageQuery)
@answers(200, UsageReportOut, description="The report (JSON), or its rows as CSV with `Accept: text/csv`.")
async def get_usage(query_args: UsageQuery):
    """The caller's usage per UTC day, kind, model or API key (`?from&to&group_by`; at most 366 days):
    requests, credits net of refunds, refunded credits, tokens, images and video seconds, with totals.
    `Accept: text/csv` answers the same rows as CSV."""
    wants_csv = request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"
    report = await container().credits.usage.usage(g.principal.require_user_id(), first=query_args.from_,
                                                   last=query_args.to, group_by=query_args.group_by)
    if wants_csv:
        name = f"muse-usage-{report.first}-{report.last}-{report.group_by}.csv"
        headers = {"Content-Type": "text/csv; charset=utf-8",
                   "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(report.as_csv(), status=200, headers=headers)
    return UsageReportOut.model_validate(report.as_dict()).model_dump(by_alias=True)
