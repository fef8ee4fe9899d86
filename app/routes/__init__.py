"""HTTP routes: URLs, decorators and docstrings only; the work happens in controllers."""

from __future__ import annotations

from quart import Quart


def register_routes(app: Quart) -> None:
    """Register every blueprint."""
    from app.routes.health import bp as health

    for blueprint in (health,):
        app.register_blueprint(blueprint)
