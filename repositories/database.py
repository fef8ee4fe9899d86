"""MongoDB connection: PyMongo's async client with Beanie 2 on top."""

from __future__ import annotations

from beanie import init_beanie
from pymongo import AsyncMongoClient

from repositories.registry import document_models


class MongoDatabase:
    """Owns the client; `init` registers the documents and creates their indexes."""

    def __init__(self, uri: str, name: str) -> None:
        self.client: AsyncMongoClient = AsyncMongoClient(
            uri, tz_aware=True, serverSelectionTimeoutMS=5000, connectTimeoutMS=3000, appname="muse"
        )
        self.name = name
        self.db = self.client[name]

    async def init(self) -> None:
        """Initialise Beanie and create every index."""
        await init_beanie(database=self.db, document_models=document_models())

    async def ping(self) -> None:
        """Round-trip to the server."""
        await self.client.admin.command("ping")

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.client.close()
