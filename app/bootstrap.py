"""Composition root: builds repositories, providers, services and controllers once.

`Container(settings, **overrides)` is cheap to construct; `await start()`
connects (starting embedded servers in development when no URL is set) and
wires everything. Any attribute can be passed in `overrides` to replace the
default (tests pass their own fakes).
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from arq.connections import ArqRedis

from app.config import Settings
from app.embedded import EmbeddedStack, start_missing

log = structlog.stdlib.get_logger("muse.bootstrap")


class Container:
    """Everything a web or worker process needs, built once per process."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.settings = settings
        self._overrides = overrides
        self.embedded = EmbeddedStack()
        self.started = False

    def _pick(self, name: str, factory: Any) -> Any:
        value = self._overrides[name] if name in self._overrides else factory()
        setattr(self, name, value)
        return value

    async def start(self) -> None:
        """Connect to MongoDB and Redis, initialise Beanie and wire the services."""
        if self.started:
            return
        if not self.settings.is_production and not (self.settings.mongodb_uri and self.settings.redis_url):
            urls = await asyncio.to_thread(start_missing, self.settings, self.embedded)
            self.settings = self.settings.model_copy(update=urls)
            log.info("embedded_servers_started", **urls)
        await self._wire()
        self.started = True

    async def _wire(self) -> None:
        # Each feature wires itself in its own method, in dependency order.
        await self._wire_core()

    async def _wire_core(self) -> None:
        from controllers.health import HealthController
        from repositories.database import MongoDatabase
        from repositories.job_runs import BeanieJobRunRepository
        from repositories.queue import ArqJobQueue
        from services.health import HealthService
        from services.housekeeping import HousekeepingService

        s = self.settings
        self.database = self._pick("database", lambda: MongoDatabase(s.mongodb_uri, s.mongodb_db))
        await self.database.init()
        self.redis = self._pick("redis", lambda: ArqRedis.from_url(
            s.redis_url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30))
        self.queue = self._pick("queue", lambda: ArqJobQueue(self.redis, s.queue_name))
        self.job_runs = self._pick("job_runs", BeanieJobRunRepository)
        self.housekeeping = self._pick("housekeeping", lambda: HousekeepingService(self.job_runs))
        self.health = self._pick("health", lambda: HealthService(
            {"mongo": self.database.ping, "redis": self._redis_check, "queue": self._queue_check},
            version=s.version))
        self.health_controller = HealthController(self.health)

    async def _redis_check(self) -> None:
        await self.redis.ping()

    async def _queue_check(self) -> dict:
        return {"depth": await self.queue.depth()}

    async def stop(self) -> None:
        """Close connections and stop embedded servers."""
        if not self.started:
            return
        self.started = False
        await self.redis.aclose()
        await self.database.close()
        await asyncio.to_thread(self.embedded.stop)
