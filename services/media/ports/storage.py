"""The media storage port: Cloudinary in production, a local directory in development."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StoredObject:
    """Where a stored file lives: our `key` (to delete it) and the public `url` clients see."""

    key: str
    url: str


class StorageProvider(Protocol):
    """Put, read and delete media files under a per-user folder."""

    name: str

    async def put(self, data: bytes, *, folder: str, name: str, content_type: str,
                  private: bool = False) -> StoredObject:
        """Store the bytes. `private` (edit sources, masks): never at a public, guessable URL;
        only `get` reads it back."""
        ...

    async def get(self, stored: StoredObject) -> bytes: ...

    async def delete(self, key: str) -> bool: ...
