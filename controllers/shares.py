"""HTTP ⇄ ShareService: the share API and the public page of a shared image."""

from __future__ import annotations

from html import escape
from typing import Any

from quart import Response

from services.media.image_models import ImageRecord
from services.media.shares import ShareService
from services.platform.errors import NotFound
from services.platform.principal import Principal

_STYLE = """<style>
body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#0f1115;color:#e8e8ea}
main{max-width:960px;margin:0 auto;padding:16px}
img{max-width:100%;height:auto;display:block;margin:0 auto 12px;border-radius:8px}
a{color:#9ecbff}
</style>"""


def share_page(record: ImageRecord) -> str:
    """A small self-contained HTML page: the image(s) and the prompt, everything escaped."""
    prompt = escape(record.prompt)
    figures = "".join(
        f'<img src="{escape(o.url)}" alt="{prompt}" width="{o.width or record.width}" '
        f'height="{o.height or record.height}">' for o in record.outputs)
    negative = (f"<p><strong>Negative prompt:</strong> {escape(record.negative_prompt)}</p>"
                if record.negative_prompt else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{prompt[:80]} · Muse</title>
{_STYLE}</head>
<body><main>
<h1>Shared from Muse</h1>
{figures}
<p><strong>Prompt:</strong> {prompt}</p>
{negative}
<p><small>{escape(record.aspect_ratio)} · {record.width}×{record.height} ·
<a href="/">Make your own with Muse</a></small></p>
</main></body></html>
"""


def gone_page() -> str:
    """What a person sees at a link that no longer works (revoked, deleted or expired)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>This link no longer works · Muse</title>
{_STYLE}</head>
<body><main>
<h1>This link no longer works</h1>
<p>The person who shared this picture has stopped sharing it, or deleted it.</p>
<p><a href="/">Make your own pictures with Muse</a></p>
</main></body></html>
"""


_PAGE_CSP = "default-src 'none'; img-src 'self' https:; style-src 'unsafe-inline'"


class SharesController:
    """Create/revoke share links; render the public page."""

    def __init__(self, shares: ShareService) -> None:
        self._shares = shares

    async def create(self, principal: Principal, image_id: str) -> dict[str, Any]:
        """The image's public link."""
        link = await self._shares.share(principal.require_user_id(), image_id)
        return {"url": self._shares.url(link.token), "token": link.token}

    async def delete(self, principal: Principal, image_id: str) -> tuple[str, int]:
        """Revoke the image's link."""
        await self._shares.revoke(principal.require_user_id(), image_id)
        return "", 204

    async def page(self, token: str, *, wants_html: bool) -> Response:
        """The public page of a shared image. Once revoked: 404, as a page for a browser (`wants_html`),
        as problem+json for any other client."""
        try:
            record = await self._shares.resolve(token)
        except NotFound:
            if not wants_html:
                raise
            response = Response(gone_page(), status=404, content_type="text/html; charset=utf-8")
        else:
            response = Response(share_page(record), content_type="text/html; charset=utf-8")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = _PAGE_CSP
        return response
