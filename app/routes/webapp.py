"""The first-party web app (contract §11): static files from `web/`, and its HTML for every app URL.

Each view of the app has its own URL (`/images/<id>`, `/chat/<id>` …); answering the same
HTML for all of them lets a reload or a shared address open that view.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import cache

from quart import Blueprint, Response, send_from_directory
from quart_schema import hide

from app.config import ROOT
from app.routes.deps import container
from middlewares.access import public
from middlewares.policy import policy

WEB_DIR = ROOT / "web"
APP_ROUTES = ("/", "/sign-in", "/sign-up", "/forgot-password", "/reset-password", "/verify-email",
              "/chat", "/chat/<path:rest>", "/studio", "/gallery", "/images/<path:rest>", "/edit",
              "/videos", "/videos/<path:rest>",
              "/describe", "/credits", "/checkout/<path:rest>", "/keys", "/usage", "/account", "/admin",
              "/admin/<path:rest>")

# Only Muse's own origin: scripts, styles, API calls; pictures and videos also from https (Cloudinary).
CSP = ("default-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob: https:; "
       "style-src 'self'; script-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
# With Clerk sign-in: Clerk's library (served from /assets/vendor/, so scripts stay 'self') calls
# its Frontend API, styles its components with injected <style> elements, and runs a worker.
CLERK_CSP = ("default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
             "script-src 'self'; connect-src 'self' https://{fapi}; worker-src 'self' blob:; "
             "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def clerk_frontend_api(publishable_key: str | None) -> str | None:
    """The Frontend API host a Clerk publishable key names: `pk_test_`/`pk_live_` + base64("<host>$")."""
    prefix, _, encoded = (publishable_key or "").partition("_test_")
    if not encoded:
        prefix, _, encoded = (publishable_key or "").partition("_live_")
    if prefix != "pk" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    host = decoded.removesuffix("$")
    return host if decoded.endswith("$") and _HOST.fullmatch(host) else None


@cache
def _csp(provider: str, publishable_key: str | None) -> str:
    fapi = clerk_frontend_api(publishable_key) if provider == "clerk" else None
    return CLERK_CSP.format(fapi=fapi) if fapi else CSP


def content_security_policy() -> str:
    """The app page's CSP for this deployment's sign-in."""
    auth = container().web.dev_controller.client_config()["auth"]
    return _csp(auth["provider"], auth.get("clerk_publishable_key"))

bp = Blueprint("webapp", __name__)


@hide
@public
@policy(open_in_maintenance=True, rate_limited=False)  # the app's own files
async def app_page(rest: str | None = None) -> Response:
    """The app's HTML (the browser router picks the view from the URL)."""
    response = await send_from_directory(WEB_DIR, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


for _rule in APP_ROUTES:
    bp.add_url_rule(_rule, "app_page", app_page, methods=["GET"])


@bp.get("/assets/<path:name>")
@hide
@public
@policy(open_in_maintenance=True, rate_limited=False)  # the app's own files
async def asset(name: str) -> Response:
    """A file of the app (scripts, styles, icons); revalidated on each load (no build step, no hashes)."""
    response = await send_from_directory(WEB_DIR / "assets", name)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
