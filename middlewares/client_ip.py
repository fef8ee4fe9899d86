"""The client's address behind trusted proxies (contract §16): the one place Muse finds it.

`trust_proxies` wraps the ASGI app in Uvicorn's own proxy-header middleware: only a peer named
in `FORWARDED_ALLOW_IPS` (addresses or CIDRs) has its `X-Forwarded-For` / `X-Forwarded-Proto`
believed, and the forwarded chain is read right to left through trusted hops only (the first
untrusted hop is the client). A forwarded header from any other peer is ignored. It wraps the app
itself (not Uvicorn's config), so the test client and every server see the same address.

`client_ip(request)` is then the single entry point: authentication puts it on `Credentials.ip`
and `Principal.client_ip`; rate limits (the anonymous and `/media/` buckets), sign-in throttles,
access logs and the audit log read it from there.
"""

from __future__ import annotations

from collections.abc import Sequence

from quart import Quart, Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

UNKNOWN = "unknown"


def trust_proxies(app: Quart, allow: Sequence[str]) -> None:
    """Believe forwarded headers from the peers in `allow` only (outermost layer of the app)."""
    trusted: list[str] | str = "*" if "*" in allow else list(allow)
    app.asgi_app = ProxyHeadersMiddleware(app.asgi_app, trusted_hosts=trusted)  # type: ignore[method-assign,assignment,arg-type]


def client_ip(req: Request) -> str:
    """The calling client's address (after trusted proxies), `unknown` when the server gave none."""
    return req.remote_addr or UNKNOWN
