"""`GET /metrics`: the scrape → a Prometheus text response."""

from __future__ import annotations

from quart import Response

from services.platform.metrics import MetricsService


class MetricsController:
    def __init__(self, metrics: MetricsService) -> None:
        self._metrics = metrics

    async def scrape(self, authorization: str | None) -> Response:
        """The exposition (401/404 as the service decides)."""
        body, content_type = await self._metrics.scrape(authorization)
        return Response(body, status=200, content_type=content_type)
