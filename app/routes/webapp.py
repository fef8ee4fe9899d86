"""The first-party web app (contract §11): static files from `web/`, and its HTML for every app URL.

Each view of the app has its own URL (`/images/<id>`, `/chat/<id>` …); answering the same
HTML for all of them lets a reload or a shared address open that view.
"""

from __future__ import annotations

from quart import Blueprint, Response, send_from_directory
from quart_schema import hide

from app.config import ROOT
from middlewares.access import public
from middlewares.policy import policy

WEB_DIR = ROOT / "web"
APP_ROUTES = ("/", "/sign-in", "/sign-up", "/forgot-password", "/reset-password", "/verify-email",
              "/chat", "/chat/<path:rest>", "/studio", "/gallery", "/images/<path:rest>", "/edit",
              "/videos", "/videos/<path:rest>",
              "/describe", "/credits", "/checkout/<path:rest>", "/keys", "/admin", "/admin/<path:rest>")

# Only Muse's own origin: scripts, styles, API calls; pictures and videos also from https (Cloudinary).
CSP = ("default-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob: https:; "
       "style-src 'self'; script-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

bp = Blueprint("webapp", __name__)


@hide
@public
@policy(open_in_maintenance=True, rate_limited=False)  # the app's own files
async def app_page(rest: str | None = None) -> Response:
    """The app's HTML (the browser router picks the view from the URL)."""
    response = await send_from_directory(WEB_DIR, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = CSP
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
