"""Data export (contract §20): HTTP ⇄ DataExport."""

from __future__ import annotations

from typing import Any

from quart import Response

from controllers.sse import status_events, stream_response
from services.admin.export import DataExport
from services.admin.export_model import RUNNING, SECTIONS, ExportJob
from services.platform.clock import isoformat
from services.platform.principal import Principal

STREAM_S = 3600.0  # an export stream ends after this long (the client may reconnect or poll)


def render(job: ExportJob) -> dict[str, Any]:
    """The export resource: its status and progress, and where to download it once completed."""
    done = job.status == "completed"
    return {"id": job.id, "object": "export", "status": job.status,
            "progress": {"sections_done": job.sections_done, "sections_total": len(SECTIONS),
                         "items": job.items},
            "files": list(SECTIONS), "size_bytes": job.size_bytes if done else None,
            "download_url": f"/api/v1/me/exports/{job.id}/download" if done else None,
            "error": job.error, "created_at": isoformat(job.created_at),
            "completed_at": isoformat(job.completed_at) if job.completed_at else None,
            "expires_at": isoformat(job.expires_at) if job.expires_at else None}


class ExportController:
    def __init__(self, export: DataExport) -> None:
        self._export = export

    async def start(self, principal: Principal) -> tuple[dict[str, Any], int, dict[str, str]]:
        """202 + Location: the caller's running export, or a new one."""
        job = await self._export.start(principal.require_user_id())
        return render(job), 202, {"Location": f"/api/v1/me/exports/{job.id}"}

    async def get(self, principal: Principal, export_id: str) -> dict[str, Any]:
        """One of the caller's exports (another user's is 404)."""
        return render(await self._export.get(principal.require_user_id(), export_id))

    async def events(self, principal: Principal, export_id: str) -> Response:
        """`event: status` with the export as it is, then at each change, until it ends."""
        user_id = principal.require_user_id()
        await self._export.get(user_id, export_id)
        changes = self._export.follow(user_id, export_id, timeout_s=STREAM_S)
        return stream_response(status_events(changes, render, finished=lambda job: job.status not in RUNNING))

    async def download(self, principal: Principal, export_id: str) -> Response:
        """The archive (`application/zip`, an attachment), streamed; the owner only."""
        chunks, size = await self._export.download(principal.require_user_id(), export_id)
        response = Response(chunks, content_type="application/zip")
        response.headers["Content-Disposition"] = f'attachment; filename="muse-export-{export_id}.zip"'
        response.headers["Content-Length"] = str(size)
        response.headers["Cache-Control"] = "private, no-store"
        response.timeout = None
        return response
