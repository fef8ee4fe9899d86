"""MongoDB connection: PyMongo's async client with Beanie 2 on top.

Every operation is bounded (client-side operation timeout, `timeoutMS`, default 2 s from
`MONGODB_TIMEOUT_S`): a hung or unreachable server makes an operation raise a PyMongo
timeout/connection error quickly (rendered as 503 `service_unavailable`) instead of waiting
for the operating system. Start-up work (index creation) gets a longer budget.

The pool is bounded (`maxPoolSize`, MONGODB_MAX_POOL_SIZE) and prunes idle connections
(`maxIdleTimeMS`, MONGODB_MAX_IDLE_S): PyMongo otherwise opens a connection per operation in
flight (up to 100) and keeps each for the life of the process, so every latency spike left its
connections (and file descriptors) behind for good.
"""

from __future__ import annotations

import pymongo
from beanie import init_beanie
from pymongo import AsyncMongoClient

from repositories.conversations import ensure_text_indexes
from repositories.models import document_models

STARTUP_TIMEOUT_S = 30.0


class MongoDatabase:
    """Owns the client; `init` registers the documents and creates their indexes."""

    def __init__(self, uri: str, name: str, *, timeout_s: float = 2.0, max_pool_size: int = 100,
                 max_idle_s: float = 60.0) -> None:
        ms = max(1, int(timeout_s * 1000))
        self.client: AsyncMongoClient = AsyncMongoClient(
            uri, tz_aware=True, timeoutMS=ms, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms,
            maxPoolSize=max_pool_size, minPoolSize=0, maxIdleTimeMS=max(1, int(max_idle_s * 1000)),
            appname="muse",
        )
        self.name = name
        self.db = self.client[name]

    async def init(self) -> None:
        """Initialise Beanie and create every index."""
        with pymongo.timeout(STARTUP_TIMEOUT_S):
            await init_beanie(database=self.db, document_models=document_models())
            await ensure_text_indexes(self.db)

    async def ping(self) -> None:
        """Round-trip to the server."""
        await self.client.admin.command("ping")

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.client.close()
