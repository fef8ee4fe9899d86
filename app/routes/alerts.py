"""Budget alerts (contract §19): a user's monthly credits, the service's daily provider cost."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import validate_request, validate_response

from app.routes.deps import container
from controllers.schemas.alerts import ServiceAlertIn, ServiceAlertOut, UserAlertIn, UserAlertOut
from middlewares.access import require_role
from middlewares.policy import policy
from services.platform.principal import Role

bp = Blueprint("alerts", __name__)


@bp.get("/api/v1/me/alerts")
@require_role(Role.USER)
@policy()
@validate_response(UserAlertOut)
async def get_my_alerts():
    """The caller's budget alert (`monthly_credits`), this UTC month's spend and whether it is reached."""
    return await container().admin.alerts.user_alert(g.principal.require_user_id())


@bp.put("/api/v1/me/alerts")
@require_role(Role.USER)
@policy()
@validate_request(UserAlertIn)
@validate_response(UserAlertOut)
async def put_my_alerts(data: UserAlertIn):
    """Set the caller's budget alert: one email a UTC month when the credits spent reach
    `monthly_credits` (null clears it; a new threshold may email again this month)."""
    return await container().admin.alerts.set_user_alert(g.principal.require_user_id(), data.monthly_credits)


@bp.get("/api/v1/admin/alerts")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_response(ServiceAlertOut)
async def get_service_alerts():
    """The service-wide budget alert (`daily_provider_cost_usd`) and today's provider cost."""
    return await container().admin.alerts.service_alert()


@bp.put("/api/v1/admin/alerts")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_request(ServiceAlertIn)
@validate_response(ServiceAlertOut)
async def put_service_alerts(data: ServiceAlertIn):
    """Set the service-wide budget alert: one email a UTC day, to the admin who set it, when the
    provider cost (the price table) reaches `daily_provider_cost_usd` (null clears it)."""
    return await container().admin.alerts.set_service_alert(g.principal.require_user_id(),
                                                           data.daily_provider_cost_usd)
