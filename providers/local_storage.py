"""Media on the local filesystem under MEDIA_DIR, served at `/media/<key>`."""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path

from services.media.ports.storage import StoredObject

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
PRIVATE = "_private"  # edit sources and masks: stored, never served
_EXT = {"image/webp": "webp", "image/png": "png", "image/jpeg": "jpg", "video/mp4": "mp4"}


class LocalStorage:
    """Files under `root/<folder>/<name>.<ext>`; URLs on `base_url/media/`."""

    name = "local"

    def __init__(self, root: Path, *, base_url: str) -> None:
        self.root = Path(root).resolve()
        self._base_url = base_url.rstrip("/")

    def path_of(self, key: str) -> Path:
        """The file of `key`; raises ValueError for keys escaping the media root."""
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError("key outside the media directory")
        return path

    def public_path_of(self, key: str) -> Path:
        """The file of `key` if it may be served at /media/; ValueError for private files."""
        path = self.path_of(key)
        if self.root / PRIVATE == path or (self.root / PRIVATE) in path.parents:
            raise ValueError("private file")
        return path

    async def put(self, data: bytes, *, folder: str, name: str, content_type: str,
                  private: bool = False) -> StoredObject:
        """Write the file (atomically: temp file then rename).

        A private file (an edit source or mask) lives under `_private/` with a random name:
        /media/ refuses that folder and its URL is not a public one."""
        stem = _SAFE.sub("_", name) + (f"_{secrets.token_urlsafe(16)}" if private else "")
        key = f"{_SAFE.sub('_', folder)}/{stem}.{_EXT.get(content_type, 'bin')}"
        if private:
            key = f"{PRIVATE}/{key}"
        path = self.path_of(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)

        await asyncio.to_thread(write)
        url = f"private:{key}" if private else f"{self._base_url}/media/{key}"
        return StoredObject(key=key, url=url)

    async def get(self, stored: StoredObject) -> bytes:
        """The bytes of a stored file (FileNotFoundError when missing)."""
        return await asyncio.to_thread(self.path_of(stored.key).read_bytes)

    async def delete(self, key: str) -> bool:
        """Remove the file; False when it was already gone."""
        path = self.path_of(key)

        def remove() -> bool:
            try:
                path.unlink()
                return True
            except FileNotFoundError:
                return False

        return await asyncio.to_thread(remove)
