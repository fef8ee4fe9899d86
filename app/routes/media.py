"""Locally stored media (development storage), served at /media/<path>."""

from __future__ import annotations

from quart import Blueprint

from app.openapi import answers
from app.routes.deps import container
from middlewares.access import public
from middlewares.policy import policy

bp = Blueprint("media", __name__)


@bp.get("/media/<path:key>")
@public
@policy(rate_bucket="media")
@answers(200, description="The stored file.", media="application/octet-stream")
async def media(key: str):
    """A stored image file (local storage only; URLs are unguessable ids)."""
    return await container().media.media_controller.serve(key)
