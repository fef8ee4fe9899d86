"""Fetches a client-given image URL (describe/edit by URL), refusing private addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlparse

import httpx

from services.errors import BadRequest, PayloadTooLarge, UpstreamError


async def fetch_remote_image(
    url: str, *, max_bytes: int, allow_private: bool = False, timeout_s: float = 20.0
) -> bytes:
    """GET an image by URL (http/https only; private addresses refused unless allowed; size-capped)."""
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("image_url must be an http(s) URL.")
    if not allow_private:
        infos = await asyncio.to_thread(socket.getaddrinfo, parts.hostname, parts.port or 443)
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise BadRequest("image_url must point to a public address.")
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
