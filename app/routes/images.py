"""Image routes (contract §5): generation jobs, gallery, edits and describe."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import validate_querystring, validate_request, validate_response

from app.openapi import answers, event_stream, problems
from app.routes.deps import container
from controllers.schemas.images import (
    CreateImageIn,
    DescribeForm,
    DescribeJson,
    DescribeOut,
    EditForm,
    EditJson,
    ImageListQuery,
    ImageOut,
    ImagePage,
)
from middlewares.access import require_role
from middlewares.body import request_body
from middlewares.idempotency import idempotent
from middlewares.policy import policy
from middlewares.request_id import current_request_id
from services.platform.principal import Role

bp = Blueprint("images", __name__)


@bp.post("/api/v1/images")
@require_role(Role.USER)
@policy(feature="images", scope="images")
@answers(202, ImageOut, description="Queued: poll the Location.", headers=("Location",))
@answers(201, ImageOut, description="Finished (with `wait: true`).", headers=("Location",))
@problems(402, 502, 503, 504)
@idempotent
@validate_request(CreateImageIn)
async def create_image(data: CreateImageIn):
    """Submit an image generation job: 202 with the resource and `Location`.

    Charged at submission (`image` price per output), refunded if the job fails.
    With `"wait": true`, waits up to IMAGE_TIMEOUT_S: 201 with the finished image or the failure problem."""
    return await container().media.images_controller.create(data, g.principal, current_request_id())


@bp.get("/api/v1/images")
@require_role(Role.USER)
@policy(scope="images")
@validate_querystring(ImageListQuery)
@validate_response(ImagePage)
async def list_images(query_args: ImageListQuery):
    """The caller's images, newest first; filters `status` and `saved`; cursor pagination.

    Expired images (files deleted) are left out unless `status=expired` is asked for."""
    return await container().media.images_controller.list(g.principal, query_args)


@bp.post("/api/v1/images/edits")
@require_role(Role.USER)
@policy(feature="images", scope="images")
@answers(202, ImageOut, description="Queued: poll the Location.", headers=("Location",))
@answers(201, ImageOut, description="Finished (with `wait: true`).", headers=("Location",))
@problems(402, 404, 502, 503, 504)
@idempotent
@request_body(multipart=EditForm, json=EditJson)
async def edit_image():
    """Submit an edit job (multipart: `image` file or `source_image_id`, `prompt`, optional `mask`).

    Same answers as POST /api/v1/images; `image_edit` price per output. Uploads: PNG/JPEG/WebP,
    at most MAX_UPLOAD_MB (413 / 415 otherwise, nothing stored)."""
    return await container().media.images_controller.edit(g.principal, current_request_id())


@bp.post("/api/v1/images/describe")
@require_role(Role.USER)
@policy(feature="images", scope="describe")
@problems(402, 404, 502, 503, 504)
@idempotent
@request_body(multipart=DescribeForm, json=DescribeJson)
@validate_response(DescribeOut)
async def describe_image():
    """Describe a picture with the chat providers' vision (multipart `image`, or JSON
    `source_image_id` / `image_url`); `preset: "fursona"` or a custom `instruction`."""
    return await container().media.images_controller.describe(g.principal, current_request_id())


@bp.get("/api/v1/images/<rid:image_id>")
@require_role(Role.USER)
@policy(scope="images")
@validate_response(ImageOut)
async def get_image(image_id: str):
    """One of the caller's images (poll a job here); another user's image is 404."""
    return await container().media.images_controller.get(g.principal, image_id)


@bp.delete("/api/v1/images/<rid:image_id>")
@require_role(Role.USER)
@policy(scope="images")
async def delete_image(image_id: str):
    """Delete an image and its stored files (204); another user's image is 404."""
    return await container().media.images_controller.delete(g.principal, image_id)


@bp.post("/api/v1/images/<rid:image_id>/save")
@require_role(Role.USER)
@policy(scope="images")
@validate_response(ImageOut)
async def save_image(image_id: str):
    """Keep an image: `saved` true, `expires_at` null; another user's image is 404."""
    return await container().media.images_controller.save(g.principal, image_id)


@bp.get("/api/v1/images/<rid:image_id>/events")
@require_role(Role.USER)
@policy(scope="images")
@event_stream("`event: status` with the image resource at each status change; ends after a terminal status.")
async def image_events(image_id: str):
    """The image job's progress, pushed: `text/event-stream` of `event: status` (the resource) as it is,
    then at each status change (queued → in_progress → completed | failed), ending after a terminal
    status. Another user's image is 404."""
    return await container().media.images_controller.events(g.principal, image_id)
