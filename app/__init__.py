"""The Muse application factory."""

from __future__ import annotations

import asyncio

from arq.worker import Worker
from quart import Quart
from quart_schema import QuartSchema

from app.bootstrap import Container
from app.config import Settings, load_settings
from app.logging import configure_logging, get_logger
from app.telemetry import configure_telemetry, instrument_asgi

log = get_logger("muse.app")

def create_app(settings: Settings | None = None, container: Container | None = None) -> Quart:
    """Build the Quart app; tests pass their own settings and container."""
    if settings is None:
        settings = container.settings if container else load_settings()
    configure_logging(settings.log_level)
    configure_telemetry(settings)
    container = container or Container(settings)

    app = Quart("muse", static_folder=None)
    app.config.update(
        MAX_CONTENT_LENGTH=int((settings.max_upload_mb + 1) * 1024 * 1024),
        JSON_SORT_KEYS=False,
        PROPAGATE_EXCEPTIONS=False,
    )
    app.extensions["container"] = container
    from app.openapi import MuseOpenAPIProvider, install_docs

    install_docs(app)
    QuartSchema(
        app,
        info={"title": "Muse API", "version": settings.version},
        openapi_path="/openapi.json",
        swagger_ui_path="/docs",
        redoc_ui_path=None,
        scalar_ui_path=None,
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        openapi_provider_class=MuseOpenAPIProvider,
    )

    from app.problems import register_problem_handlers
    from app.routes import register_routes
    from middlewares import access_log, auth, body, cors, maintenance, metrics, rate_limit, request_id

    metrics.install(app)  # first, so its after-request hook runs last (the final status)
    cors.install(app)  # preflights are answered before auth, maintenance and limits
    request_id.install(app)
    maintenance.install(app)
    auth.install(app)
    rate_limit.install(app)
    body.install(app)
    access_log.install(app)
    register_problem_handlers(app)
    register_routes(app)
    _register_lifecycle(app, container)
    instrument_asgi(app)
    return app


def _register_lifecycle(app: Quart, container: Container) -> None:
    worker_state: dict[str, Worker] = {}
    task_state: dict[str, asyncio.Task[None]] = {}

    @app.before_serving
    async def start() -> None:
        await container.start()
        if container.settings.run_worker_in_process:
            from app.worker import build_worker

            worker = build_worker(container, handle_signals=False)
            worker_state["worker"] = worker
            task_state["task"] = asyncio.create_task(worker.async_run())
        log.info("muse_started", env=container.settings.app_env,
                 in_process_worker=container.settings.run_worker_in_process)

    @app.after_serving
    async def stop() -> None:
        worker, task = worker_state.pop("worker", None), task_state.pop("task", None)
        if worker is not None:
            await worker.close()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await container.stop()
