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

    async def put(self, data: bytes, *, folder: str, name: str, content_type: str) -> StoredObject: ...

    async def get(self, stored: StoredObject) -> bytes: ...

    async def delete(self, key: str) -> bool: ...


async def fetch_remote_image(
    url: str, *, max_bytes: int, allow_private: bool = False, timeout_s: float = 20.0
) -> bytes:
    """GET an image by URL (http/https only; private addresses refused unless allowed; size-capped)."""
    import asyncio
    import ipaddress
    import socket
    from urllib.parse import urlparse

    import httpx

    from services.errors import PayloadTooLarge, UpstreamError, ValidationFailed

    def refused(msg: str) -> ValidationFailed:
        return ValidationFailed(msg, errors=[{"loc": ["image_url"], "msg": msg}])

    try:
        parts = urlparse(url)
        port = parts.port
    except ValueError:  # e.g. a port out of range
        raise refused("image_url is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refused("image_url must be an http(s) URL.")
    if not allow_private:
        try:
            infos = await asyncio.to_thread(socket.getaddrinfo, parts.hostname, port or 443)
        except (OSError, UnicodeError):
            raise refused("image_url's host cannot be resolved.") from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise refused("image_url must point to a public address.")
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as http:
            async with http.stream("GET", url) as response:
                response.raise_for_status()
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge("The image at image_url is too large.")
                    chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise UpstreamError("Could not fetch image_url.") from exc
    return b"".join(chunks)


def build_storage(settings) -> StorageProvider:  # type: ignore[no-untyped-def]
    """Cloudinary when CLOUDINARY_URL is set, else files under MEDIA_DIR served at /media/."""
    if settings.cloudinary_url:
        from providers.cloudinary_storage import CloudinaryStorage

        return CloudinaryStorage(
            settings.cloudinary_url.get_secret_value(), upload_prefix=settings.cloudinary_upload_prefix
        )
    from providers.local_storage import LocalStorage

    return LocalStorage(settings.media_dir, base_url=settings.public_base_url)
