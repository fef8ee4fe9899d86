"""Video routes (contract §15): text-to-video and image-to-video jobs, gallery, pushed progress."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import validate_querystring, validate_request, validate_response

from app.openapi import answers, event_stream, problems
from app.routes.deps import container
from controllers.schemas.videos import CreateVideoIn, VideoListQuery, VideoOut, VideoPage
from middlewares.access import require_role
from middlewares.idempotency import idempotent
from middlewares.policy import policy
from middlewares.request_id import current_request_id
from services.platform.principal import Role

bp = Blueprint("videos", __name__)


@bp.post("/api/v1/videos")
@require_role(Role.USER)
@policy(feature="images", scope="videos")
@answers(202, VideoOut, description="Queued: follow the Location (or its `/events`).", headers=("Location",))
@answers(201, VideoOut, description="Finished (with `wait: true`).", headers=("Location",))
@problems(402, 404, 502, 503, 504)
@idempotent
@validate_request(CreateVideoIn)
async def create_video(data: CreateVideoIn):
    """Submit a video job: text-to-video, or image-to-video from `source_image_id` (one of your images).

    Charged at submission (`video_per_second` × `duration_s`), refunded once if the job fails.
    With `"wait": true`, waits up to VIDEO_TIMEOUT_S: 201 with the finished video or the failure problem."""
    return await container().media.videos_controller.create(data, g.principal, current_request_id())


@bp.get("/api/v1/videos")
@require_role(Role.USER)
@policy(scope="videos")
@validate_querystring(VideoListQuery)
@validate_response(VideoPage)
async def list_videos(query_args: VideoListQuery):
    """The caller's videos, newest first; filters `status` and `saved`; cursor pagination."""
    return await container().media.videos_controller.list(g.principal, query_args)


@bp.get("/api/v1/videos/<rid:video_id>")
@require_role(Role.USER)
@policy(scope="videos")
@validate_response(VideoOut)
async def get_video(video_id: str):
    """One of the caller's videos; another user's video is 404."""
    return await container().media.videos_controller.get(g.principal, video_id)


@bp.delete("/api/v1/videos/<rid:video_id>")
@require_role(Role.USER)
@policy(scope="videos")
async def delete_video(video_id: str):
    """Delete a video and its stored files (204); another user's video is 404."""
    return await container().media.videos_controller.delete(g.principal, video_id)


@bp.post("/api/v1/videos/<rid:video_id>/save")
@require_role(Role.USER)
@policy(scope="videos")
@validate_response(VideoOut)
async def save_video(video_id: str):
    """Keep a video: `saved` true, `expires_at` null; another user's video is 404."""
    return await container().media.videos_controller.save(g.principal, video_id)


@bp.get("/api/v1/videos/<rid:video_id>/events")
@require_role(Role.USER)
@policy(scope="videos")
@event_stream("`event: status` with the video resource at each status change; ends after a terminal status.")
async def video_events(video_id: str):
    """The video job's progress, pushed: `text/event-stream` of `event: status` (the resource) as it is,
    then at each status change, ending after a terminal status. Another user's video is 404."""
    return await container().media.videos_controller.events(g.principal, video_id)
