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


async def fetch_remote_image(
    url: str, *, max_bytes: int, allow_private: bool = False, timeout_s: float = 20.0
) -> bytes:
    """GET an image by URL (http/https only; private addresses refused unless allowed; size-capped).

    The checked address is the one connected to (no DNS rebinding): providers/remote_fetch.py."""
    from providers.remote_fetch import fetch_remote_image as pinned_fetch

    return await pinned_fetch(url, max_bytes=max_bytes, allow_private=allow_private, timeout_s=timeout_s)


def build_storage(settings) -> StorageProvider:  # type: ignore[no-untyped-def]
    """Cloudinary when CLOUDINARY_URL is set, else files under MEDIA_DIR served at /media/."""
    if settings.cloudinary_url:
        from providers.cloudinary_storage import CloudinaryStorage

        return CloudinaryStorage(
            settings.cloudinary_url.get_secret_value(), upload_prefix=settings.cloudinary_upload_prefix
        )
    from providers.local_storage import LocalStorage

    return LocalStorage(settings.media_dir, base_url=settings.public_base_url)
