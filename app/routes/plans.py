"""Plan catalogue route (contract §3)."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_response

from app.routes.deps import container
from controllers.schemas.plans import PlansOut
from middlewares.access import public
from middlewares.policy import policy

bp = Blueprint("plans", __name__)


@bp.get("/api/v1/plans")
@public
@policy()
@validate_response(PlansOut)
async def list_plans():
    """Plans (daily allowance, role, PayPal plan), gift tiers, credit packs, prices and chat models."""
    return await container().credits.plans_controller.list()
