"""Prometheus scrape endpoint (contract §13); not rate-limited, not in the OpenAPI document."""

from __future__ import annotations

from quart import Blueprint, Response, request
from quart_schema import hide

from app.routes.deps import container
from middlewares.access import public
from middlewares.policy import policy

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@public
@policy(open_in_maintenance=True, rate_limited=False)
@hide
async def metrics():
    """Prometheus text format; `Authorization: Bearer <METRICS_TOKEN>` when that is set."""
    scrape = container().platform.metrics_service.scrape
    body, content_type = await scrape(request.headers.get("Authorization"))
    return Response(body, status=200, content_type=content_type)
