"""Fetching an image by URL (`image_url` of describe and edits) without DNS rebinding.

The host name is resolved once, every address is checked (public only, unless private
addresses are allowed, as in development), and the connection goes to the checked address:
the URL's host is replaced by the IP while the `Host` header and, for https, the TLS server
name (SNI and certificate check) keep the original name. A redirect is followed only after
its target has been resolved and checked the same way (at most `max_redirects`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit, urlunsplit

from services.platform.errors import PayloadTooLarge, UpstreamError, ValidationFailed

if TYPE_CHECKING:  # httpx is imported by the first fetch, not at start-up (issue 12)
    import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]
AddressCheck = Callable[[str], bool]


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (getaddrinfo, off the event loop)."""
    infos = await asyncio.to_thread(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public(address: str) -> bool:
    """A globally routable address (not loopback, private, link-local, multicast, reserved...)."""
    return ipaddress.ip_address(address.split("%", 1)[0]).is_global


def refused(msg: str) -> ValidationFailed:
    """A 422 naming `image_url` (a URL Muse will not fetch is a bad field, not a bad request)."""
    return ValidationFailed(msg, errors=[{"loc": ["image_url"], "msg": msg}])


def _allow_any(_address: str) -> bool:
    return True


async def _pin(host: str, port: int, resolve: Resolver, allowed: AddressCheck) -> str:
    try:
        addresses = await resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise refused("image_url's host could not be resolved.") from exc
    if not addresses or not all(allowed(a) for a in addresses):
        raise refused("image_url must point to a public address.")
    return addresses[0]


def _pinned_url(url: str, address: str) -> tuple[str, str, str]:
    """(URL with the host replaced by `address`, Host header value, original host name)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refused("image_url must be an http(s) URL.")
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown + (f":{parts.port}" if parts.port else "")
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host_header, host


async def fetch_remote_image(url: str, *, max_bytes: int, allow_private: bool = False,
                             timeout_s: float = 20.0, resolve: Resolver = system_resolve,
                             allowed: AddressCheck = is_public, max_redirects: int = 3) -> bytes:
    """GET an image by URL: http/https only, the checked address pinned, size-capped."""
    import httpx

    check = _allow_any if allow_private else allowed
    async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, trust_env=False) as http:
        for _hop in range(max_redirects + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise refused("image_url must be an http(s) URL.")
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:  # e.g. a port out of range
                raise refused("image_url is not a valid URL.") from None
            address = await _pin(parts.hostname, port, resolve, check)
            target, host_header, host = _pinned_url(url, address)
            extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
            request = http.build_request("GET", target, headers={"Host": host_header}, extensions=extensions)
            try:
                response = await http.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise UpstreamError("Could not fetch image_url.") from exc
            try:
                if response.is_redirect and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])  # checked again on the next hop
                    continue
                return await _read(response, max_bytes)
            finally:
                await response.aclose()
    raise refused(f"image_url redirects more than {max_redirects} times.")


async def _read(response: httpx.Response, max_bytes: int) -> bytes:
    import httpx

    try:
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
