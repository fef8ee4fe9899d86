"""Credits routes (contract §3): the caller's credits object and ledger."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import validate_querystring, validate_response

from app.routes.deps import container
from controllers.schemas.common import CreditsOut
from controllers.schemas.credits import LedgerPageOut, LedgerQuery
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
