"""The Muse application factory (`from app import create_app` also finds it)."""

from __future__ import annotations

import asyncio

from quart import Quart
from quart_schema import QuartSchema

from app.config import Settings, load_settings
from app.draining import Drain, track_in_flight
from app.logging import configure_logging, get_logger
from app.speedups import MuseQuart, OrjsonProvider, cache_type_adapters
from app.startup import lazy_sdks, preload
from app.telemetry import configure_telemetry, instrument_asgi
from app.wiring import Container
from app.worker import WorkerRunner, worker_drain_s

log = get_logger("muse.app")

def create_app(settings: Settings | None = None, container: Container | None = None) -> Quart:
    """Build the Quart app; tests pass their own settings and container."""
    if settings is None:
        settings = container.settings if container else load_settings()
    configure_logging(settings.log_level)
    configure_telemetry(settings)
    container = container or Container(settings)

    app = MuseQuart("muse", static_folder=None)
    cache_type_adapters()
    app.config.update(
        MAX_CONTENT_LENGTH=int((settings.max_upload_mb + 1) * 1024 * 1024),
        JSON_SORT_KEYS=False,
        PROPAGATE_EXCEPTIONS=False,
    )
    app.container = container  # routes reach their parts through it (app/routes/deps.py)
    app.extensions["container"] = container  # tests read parts through their `container` fixture
    from app.openapi import install_docs, openapi_provider

    install_docs(app)
    QuartSchema(
        app,
        info={"title": "Muse API", "version": settings.version},
        openapi_path="/openapi.json",
        swagger_ui_path="/docs",
        redoc_ui_path=None,
        scalar_ui_path=None,
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        openapi_provider_class=openapi_provider(container),
    )
    app.json = OrjsonProvider(app)  # after Quart-Schema, which sets its own (stdlib) provider

    from app.problems import register_problem_handlers
    from app.routes import register_routes
    from middlewares import (
        access_log,
        auth,
        body,
        cors,
        idempotency,
        maintenance,
        metrics,
        query,
        rate_limit,
        request_id,
    )
    from middlewares.client_ip import trust_proxies

    # Each middleware is given what it needs here; parts are read once the container has started.
    c, s = container, container.settings
    limiter = (lambda: c.platform.rate_limiter) if s.rate_limits_enabled else None
    metrics.install(app, lambda: c.platform.metrics)  # first: its after-request hook runs last (final status)
    cors.install(app, s.cors_origins)  # preflights are answered before auth, maintenance and limits
    request_id.install(app)
    maintenance.install(app, lambda: c.platform.live_settings)
    auth.install(app, lambda: c.identity.auth, limiter)
    rate_limit.install(app, limiter)
    query.install(app)  # unknown or repeated query parameters refused by name (before the body is read)
    body.install(app)
    access_log.install(app)
    idempotency.install(app, lambda: c.platform.idempotency)
    register_problem_handlers(app, base_url=s.public_base_url)
    register_routes(app, web_app=s.web_app_enabled)
    drain = Drain()
    app.extensions["drain"] = drain
    app.asgi_app = track_in_flight(app.asgi_app, drain)  # type: ignore[method-assign,assignment,arg-type]
    _register_lifecycle(app, container, drain)
    instrument_asgi(app)
    trust_proxies(app, settings.forwarded_allow_ips)  # outermost: every layer sees the client
    return app


def _register_lifecycle(app: Quart, container: Container, drain: Drain) -> None:
    state: dict[str, WorkerRunner] = {}
    loading: list[asyncio.Future[None]] = []

    @app.before_serving
    async def start() -> None:
        await container.start()
        sdks = preload(lazy_sdks([container.identity.token_verifier, *container.chat.providers,
                                  *container.media.image_providers, *container.media.video_providers,
                                  *container.embeddings.providers]))
        if sdks is not None:
            loading.append(sdks)  # held until loaded; nothing waits for it
        if container.settings.run_worker_in_process:
            runner = WorkerRunner(container)
            runner.start()
            state["worker"] = runner
        log.info("muse_started", env=container.settings.app_env,
                 in_process_worker=container.settings.run_worker_in_process)

    @app.after_serving
    async def stop() -> None:
        runner = state.pop("worker", None)
        if runner is not None:  # on SIGTERM its jobs may finish; otherwise they go back to the queue
            await runner.stop(worker_drain_s(container) if drain.signalled else 0.0)
        await container.stop()
