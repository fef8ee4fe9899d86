"""Test session: real MongoDB-wire (nx-27017) and Redis servers, a clean database per test.

Set MONGODB_URI / REDIS_URL to run against servers of your own instead.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import pkgutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
import redis
from quart import Quart
from quart.testing.app import TestApp

from app import create_app
from app.config import Settings
from app.embedded import EmbeddedServer, start_mongo, start_redis
from app.logging import json_formatter
from app.wiring import Container
from services.platform.clock import clock

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

# Quart's test app gives the app's stop 6 s. Muse's stop waits for the work under way, each step within
# its own bound (mail being sent: 5 s; job events still to publish: 1 s; Redis and MongoDB commands: the
# tests' 10 s), and once, on a CI machine running two suites at once, a stop took longer than 6 s. A step
# slower than 1 s is logged (`stop_step_slow`); a stop that hangs still fails here, after 30 s.
Quart.test_app_class = functools.partial(TestApp, startup_timeout=60, shutdown_timeout=30)  # type: ignore[assignment]

# Feature fixtures live in tests/fixtures/<feature>.py and are loaded automatically.
pytest_plugins = [
    f"tests.fixtures.{module.name}"
    for module in pkgutil.iter_modules([str(Path(__file__).parent / "fixtures")])
]


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """URLs of the MongoDB and Redis servers for the whole session."""
    started: list[EmbeddedServer] = []
    urls = {"mongodb_uri": os.environ.get("MONGODB_URI"), "redis_url": os.environ.get("REDIS_URL")}
    base = tmp_path_factory.mktemp("servers")
    if not urls["mongodb_uri"]:
        started.append(start_mongo(base / "mongo"))
        urls["mongodb_uri"] = started[-1].url
    if not urls["redis_url"]:
        started.append(start_redis(base / "redis", persist=False))
        urls["redis_url"] = started[-1].url
    yield urls  # type: ignore[misc]
    for server in started:
        server.stop()


def make_settings(servers: dict[str, str], tmp_path: Path, **overrides) -> Settings:
    """Test settings: own database name, own media dir, no AI keys unless given."""
    from tests.fixtures.identity import TEST_JWT_PUBLIC_PEM

    values = dict(
        app_env="test",
        mongodb_uri=servers["mongodb_uri"],
        redis_url=servers["redis_url"],
        mongodb_db=f"t_{uuid.uuid4().hex[:12]}",
        var_dir=tmp_path / "var",
        media_dir=tmp_path / "media",
        log_level="INFO",
        worker_in_process=False,
        rate_limits_enabled=False,  # rate-limit tests turn it on
        queue_name=f"muse:queue:{uuid.uuid4().hex[:8]}",
        clerk_jwt_key=TEST_JWT_PUBLIC_PEM,  # tests.fixtures.identity signs with the private half
        # The shared test servers run on a busy machine; chaos tests use the defaults. A Redis command
        # slower than REDIS_TIMEOUT_S opens the guard's cool-down, failing every command of that app
        # for a moment (a CI run's job events then missed a timed wake-up).
        mongodb_timeout_s=10.0,
        redis_timeout_s=10.0,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def app_instances(settings: Settings, count: int = 2) -> AsyncIterator[list]:
    """`count` started apps on one database and Redis (like server instances); drops the database after."""
    async with AsyncExitStack() as stack:
        apps = [create_app(settings.model_copy()) for _ in range(count)]
        for application in apps:
            await stack.enter_async_context(application.test_app())
        yield apps
        await apps[0].extensions["container"].platform.database.client.drop_database(settings.mongodb_db)


# A `burst` test sends ~1000 concurrent requests through one event loop; on a loaded 2-core machine
# the last of them waited past the 10 s above for a pooled MongoDB connection and got an honest 503
# (WaitQueueTimeoutError) instead of the 402 under test. Its stores wait longer; outage tests keep
# the short timeouts.
BURST_TIMEOUTS = {"mongodb_timeout_s": 120.0, "redis_timeout_s": 30.0}


@pytest.fixture
def settings(servers: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings of one test, on a fresh database and a flushed Redis."""
    client = redis.Redis.from_url(servers["redis_url"])
    client.flushdb()
    client.close()
    burst = request.node.get_closest_marker("burst") is not None
    return make_settings(servers, tmp_path, **(BURST_TIMEOUTS if burst else {}))


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    yield
    clock.offset = clock.offset.__class__(0)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator:
    """A started app (before_serving ran) on the test's own database."""
    application = create_app(settings)
    async with application.test_app():
        yield application
        container: Container = application.extensions["container"]
        await container.platform.database.client.drop_database(container.settings.mongodb_db)


@pytest.fixture
def client(app):
    """HTTP test client of the started app."""
    return app.test_client()


@pytest.fixture
def container(app) -> Container:
    return app.extensions["container"]


class LogCapture(logging.Handler):
    """Collects the process's JSON log lines, as rendered in production."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(json_formatter())
        self.stream = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(self.format(record) + "\n")

    @property
    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Capture JSON log lines during a test."""
    handler = LogCapture()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
