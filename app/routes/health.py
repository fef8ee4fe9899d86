"""Health endpoints (contract §2)."""

from __future__ import annotations

from quart import Blueprint, current_app

from app.openapi import answers
from app.routes.deps import container
from middlewares.access import public
from middlewares.policy import policy

bp = Blueprint("health", __name__)


@bp.get("/health")
@public
@policy(open_in_maintenance=True, rate_limited=False)
@answers(200, description="Every dependency answers.")
@answers(503, description="`degraded`: a dependency is down (same body as 200).")
async def health():
    """Readiness of MongoDB, Redis and the job queue.

    503 with status `degraded` when a dependency is down, `draining` once the process is shutting down."""
    drain = current_app.extensions.get("drain")
    return await container().platform.health_controller.readiness(draining=bool(drain and drain.draining))


@bp.get("/health/live")
@public
@policy(open_in_maintenance=True, rate_limited=False)
async def live():
    """Liveness: the process serves."""
    return await container().platform.health_controller.liveness()
