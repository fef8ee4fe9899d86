"""Budget alerts (contract §19): HTTP ⇄ BudgetAlerts."""

from __future__ import annotations

from typing import Any

from controllers.schemas.alerts import ServiceAlertIn, UserAlertIn
from services.admin.alerts import BudgetAlerts
from services.platform.principal import Principal


class AlertsController:
    def __init__(self, alerts: BudgetAlerts) -> None:
        self._alerts = alerts

    async def mine(self, principal: Principal) -> dict[str, Any]:
        """The caller's monthly credits alert and this month's spend."""
        return await self._alerts.user_alert(principal.require_user_id())

    async def set_mine(self, principal: Principal, data: UserAlertIn) -> dict[str, Any]:
        """Set (or clear) the caller's monthly credits alert."""
        return await self._alerts.set_user_alert(principal.require_user_id(), data.monthly_credits)

    async def service(self) -> dict[str, Any]:
        """The service-wide daily provider cost alert and today's cost."""
        return await self._alerts.service_alert()

    async def set_service(self, principal: Principal, data: ServiceAlertIn) -> dict[str, Any]:
        """Set (or clear) the service-wide alert; its email goes to the admin who set it."""
        return await self._alerts.set_service_alert(principal.require_user_id(), data.daily_provider_cost_usd)
