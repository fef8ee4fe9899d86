"""Prometheus scrape endpoint (contract §13); not rate-limited, not in the OpenAPI document."""

from __future__ import annotations

from quart import Blueprint, request
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
    return await container().platform.metrics_controller.scrape(request.headers.get("Authorization"))
