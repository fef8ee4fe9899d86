"""Video endpoints (contract §15): DTOs in, video resources, problems and event streams out."""

from __future__ import annotations

from typing import Any

from quart import Response

from controllers.images import StatusOf, _caller, failure_problem, job_fields
from controllers.job_events import status_stream
from controllers.schemas.videos import CreateVideoIn, VideoListQuery
from services.media.image_models import ImageRecord, VideoInput
from services.media.videos import VideoService
from services.platform.principal import Principal


def video_resource(record: ImageRecord, status_of: StatusOf) -> dict[str, Any]:
    """The public video resource."""
    return {
        **job_fields(record, status_of),
        "source_image_id": record.source_image_id,
        "duration_s": int(record.duration_s or 0),
        "fps": record.fps,
        "outputs": [
            {"url": o.url, "width": o.width, "height": o.height, "duration_s": o.duration_s,
             "format": "mp4", "poster_url": o.poster_url}
            for o in record.outputs
        ],
    }


class VideosController:
    """Thin HTTP layer over VideoService."""

    def __init__(self, videos: VideoService, *, status_of: StatusOf) -> None:
        self._videos, self._status_of = videos, status_of
        self._library = videos.library  # the videos' gallery, waiting and events

    def _render(self, record: ImageRecord) -> dict[str, Any]:
        return video_resource(record, self._status_of)

    async def create(self, data: CreateVideoIn, principal: Principal,
                     request_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
        """202 + Location (or 201 when waited for and done; the failure problem when it failed)."""
        inp = VideoInput(prompt=data.prompt, source_image_id=data.source_image_id,
                         duration_s=data.duration_s, aspect_ratio=data.aspect_ratio, model=data.model)
        record = await self._videos.submit_video(_caller(principal, request_id), inp)
        location = {"Location": f"/api/v1/videos/{record.id}"}
        if data.wait:
            record = await self._library.wait(record.id)
            if record.status == "failed":
                problem = failure_problem(record)
                problem.extra.pop("image_id", None)
                problem.extra["video_id"] = record.id
                raise problem
            if record.status == "completed":
                return self._render(record), 201, location
        return self._render(record), 202, location

    async def list(self, principal: Principal, query: VideoListQuery) -> dict[str, Any]:
        """A page of the caller's videos."""
        items, next_cursor = await self._library.list(
            principal.require_user_id(), status=query.status, saved=query.saved, limit=query.limit,
            cursor=query.cursor)
        return {"items": [self._render(r) for r in items], "next_cursor": next_cursor}

    async def get(self, principal: Principal, video_id: str) -> dict[str, Any]:
        """One of the caller's videos."""
        return self._render(await self._library.get(principal.require_user_id(), video_id))

    async def delete(self, principal: Principal, video_id: str) -> tuple[str, int]:
        """204 once the record and its files are gone."""
        await self._library.delete(principal.require_user_id(), video_id)
        return "", 204

    async def save(self, principal: Principal, video_id: str) -> dict[str, Any]:
        """The video, now saved (no expiry)."""
        return self._render(await self._library.save(principal.require_user_id(), video_id))

    async def events(self, principal: Principal, video_id: str) -> Response:
        """The video job's status changes as server-sent events."""
        return await status_stream(self._library, self._render, principal.require_user_id(), video_id)
