"""Media on Cloudinary through the (blocking) `cloudinary` SDK, run off the event loop."""

from __future__ import annotations

import asyncio
import secrets
from urllib.parse import parse_qs, urlparse

import cloudinary
import cloudinary.exceptions
import cloudinary.uploader
import httpx

from services.media.ports.storage import StoredObject
from services.platform.errors import UpstreamError


def parse_cloudinary_url(url: str) -> dict[str, str]:
    """`cloudinary://key:secret@cloud?upload_prefix=...` → config keywords."""
    parts = urlparse(url)
    config = {
        "cloud_name": parts.hostname or "",
        "api_key": parts.username or "",
        "api_secret": parts.password or "",
    }
    for name, values in parse_qs(parts.query).items():
        config[name] = values[-1]
    return config


VIDEO_KEY = "video:"  # keys of video assets (Cloudinary's resource_type=video) start with this


class CloudinaryStorage:
    """One folder per user under `root_folder`; the key is Cloudinary's public_id (prefixed `video:`
    for videos, which Cloudinary keeps as `resource_type=video`)."""

    name = "cloudinary"

    def __init__(
        self,
        url: str,
        *,
        upload_prefix: str | None = None,
        root_folder: str = "muse",
        timeout_s: float = 60.0,
    ) -> None:
        self._config = parse_cloudinary_url(url)
        if upload_prefix:
            self._config["upload_prefix"] = upload_prefix
        self._root = root_folder
        self._timeout_s = timeout_s

    def _options(self) -> dict[str, object]:
        return {**self._config, "timeout": self._timeout_s}

    async def put(self, data: bytes, *, folder: str, name: str, content_type: str,
                  private: bool = False) -> StoredObject:
        """Upload the bytes as `<root>/<folder>/<name>`; return the secure URL.

        Private files (edit sources, masks) are `authenticated` assets with a random name: only
        the signed URL Cloudinary returns (kept server-side) delivers them."""
        extra: dict[str, object] = {"type": "authenticated"} if private else {}
        resource_type = "video" if content_type.startswith("video/") else "image"
        public_id = f"{name}_{secrets.token_urlsafe(16)}" if private else name
        try:
            result = await asyncio.to_thread(
                cloudinary.uploader.upload,
                data,
                folder=f"{self._root}/{folder}",
                public_id=public_id,
                overwrite=True,
                resource_type=resource_type,
                **extra,
                **self._options(),
            )
        except cloudinary.exceptions.Error as exc:
            raise UpstreamError(f"cloudinary: {type(exc).__name__}") from exc
        except Exception as exc:  # urllib3 timeouts and connection errors
            raise UpstreamError(f"cloudinary: {type(exc).__name__}") from exc
        public_id = result.get("public_id") or f"{self._root}/{folder}/{public_id}"
        url = result.get("secure_url") or result.get("url")
        if not url:
            raise UpstreamError("cloudinary: no URL in the upload response")
        return StoredObject(key=(VIDEO_KEY if resource_type == "video" else "") + public_id, url=url)

    async def get(self, stored: StoredObject) -> bytes:
        """Download the asset through its delivery URL."""
        async with httpx.AsyncClient(timeout=self._timeout_s) as http:
            response = await http.get(stored.url)
            response.raise_for_status()
            return response.content

    async def delete(self, key: str) -> bool:
        """Destroy the asset; False when Cloudinary did not have it."""
        resource_type = "video" if key.startswith(VIDEO_KEY) else "image"
        try:
            result = await asyncio.to_thread(
                cloudinary.uploader.destroy, key.removeprefix(VIDEO_KEY), invalidate=True,
                resource_type=resource_type, **self._options()
            )
        except Exception as exc:
            raise UpstreamError(f"cloudinary: {type(exc).__name__}") from exc
        return result.get("result") == "ok"
