"""Image endpoints (contract §5): DTOs and multipart parsing in, resources and problems out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quart import Response, request

from controllers.job_events import status_stream
from controllers.schemas.base import validate_fields
from controllers.schemas.images import CreateImageIn, DescribeFields, EditFields, ImageListQuery
from controllers.uploads import check_length, checked_files, read_form
from services.chat.vision import VisionService
from services.media.image_models import Caller, EditInput, GenerateInput, ImageRecord
from services.media.images import ImageService
from services.platform.clock import isoformat
from services.platform.errors import (
    AppError,
    InternalError,
    UpstreamError,
    UpstreamTimeout,
    ValidationFailed,
)
from services.platform.principal import Principal
from services.platform.uploads import CheckedUpload, check_image

_PROBLEMS: dict[str, type[AppError]] = {
    "provider_unavailable": UpstreamError,
    "provider_timeout": UpstreamTimeout,
}


StatusOf = Callable[[str], int]


def problem_out(error: dict[str, Any] | None, status_of: StatusOf) -> dict[str, Any] | None:
    """A failed job's stored problem as clients see it (its HTTP status from its code)."""
    if error is None:
        return None
    code = error.get("code", "internal_error")
    out = {"type": error.get("type"), "title": error.get("title"), "status": status_of(code), "code": code,
           "detail": error.get("detail")}
    return {**out, **{k: v for k, v in error.items() if k not in out}}


def job_fields(record: ImageRecord, status_of: StatusOf) -> dict[str, Any]:
    """The fields every media job resource shows (images and videos); no storage keys, receipts
    or provider URLs."""
    return {
        "id": record.id,
        "status": record.status,
        "kind": record.kind,
        "prompt": record.prompt,
        "aspect_ratio": record.aspect_ratio,
        "width": record.width,
        "height": record.height,
        "model": record.model,
        "provider": record.provider,
        "error": problem_out(record.error, status_of),
        "saved": record.saved,
        "expires_at": isoformat(record.expires_at),
        "credits_charged": record.credits_charged,
        "created_at": isoformat(record.created_at),
        "updated_at": isoformat(record.updated_at),
        "request_id": record.request_id,
    }


def resource(record: ImageRecord, status_of: StatusOf) -> dict[str, Any]:
    """The public image resource."""
    return {
        **job_fields(record, status_of),
        "negative_prompt": record.negative_prompt,
        "num_outputs": record.num_outputs,
        "seed": record.seed,
        "outputs": [
            {"url": o.url, "width": o.width, "height": o.height, "format": o.format} for o in record.outputs
        ],
    }


def failure_problem(record: ImageRecord) -> AppError:
    """The problem a failed job answers with when the caller waited for it."""
    error = record.error or {}
    problem = _PROBLEMS.get(error.get("code", ""), InternalError)(error.get("detail"))
    problem.extra.update(image_id=record.id, credits_refunded=record.credits_charged)
    if error.get("code") not in _PROBLEMS and error.get("code"):
        problem.code, problem.title = error["code"], error.get("title", "Error")
    return problem


def _caller(principal: Principal, request_id: str) -> Caller:
    return Caller(user_id=principal.require_user_id(), plan=principal.plan, request_id=request_id)


def _given(raw: dict[str, Any]) -> dict[str, Any]:
    """The fields actually given (a form has no null: an empty field is left out)."""
    return {k: v for k, v in raw.items() if v not in ("", None)}


class ImagesController:
    """Thin HTTP layer over ImageService and VisionService."""

    def __init__(
        self,
        images: ImageService,
        vision: VisionService | None,
        *,
        max_upload_mb: float,
        status_of: StatusOf,
        fetch_url: Any = None,
    ) -> None:
        self._images, self._vision = images, vision
        self._library = images.library  # the images' gallery, waiting and events
        self._status_of = status_of
        self._max_mb = max_upload_mb
        self._fetch_url = fetch_url

    async def _answer(self, record: ImageRecord, wait: bool) -> tuple[dict[str, Any], int, dict[str, str]]:
        location = {"Location": f"/api/v1/images/{record.id}"}
        if wait:
            record = await self._library.wait(record.id)
            if record.status == "failed":
                raise failure_problem(record)
            if record.status == "completed":
                return resource(record, self._status_of), 201, location
        return resource(record, self._status_of), 202, location

    async def create(self, data: CreateImageIn, principal: Principal, request_id: str):  # type: ignore[no-untyped-def]
        """202 + Location (or 201 when waited for and done)."""
        inp = GenerateInput(**data.model_dump(exclude={"wait"}))
        record = await self._images.submit(_caller(principal, request_id), inp)
        return await self._answer(record, data.wait)

    async def _multipart(self, files_taken: tuple[str, ...]
                         ) -> tuple[dict[str, Any], dict[str, CheckedUpload]]:
        """Form or JSON fields, and the checked uploaded files `files_taken` (checked before anything
        is stored; another file part is refused by name)."""
        check_length(self._max_mb)
        if request.mimetype == "application/json":
            body = await request.get_json(silent=True)
            if not isinstance(body, dict):
                raise ValidationFailed(errors=[{"loc": ["body"], "msg": "Input should be a JSON object"}])
            return body, {}
        fields, files = await read_form(self._max_mb)
        uploads = checked_files(files, files_taken, max_mb=self._max_mb)
        if "wait" in fields:
            flag = str(fields["wait"]).strip().lower()
            if flag not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValidationFailed(errors=[{"loc": ["wait"], "msg": "Input should be true or false"}])
            fields["wait"] = flag in ("1", "true", "yes", "on")
        return fields, uploads

    async def _source_image(self, caller: Caller, uploads: dict[str, CheckedUpload],
                            source_image_id: str | None, *, url_accepted: bool = False,
                            image_url: str | None = None) -> CheckedUpload:
        """The uploaded `image`, else the caller's image `source_image_id`, else the image at
        `image_url` (when URLs are accepted); 422 when none is given."""
        if "image" in uploads:
            return uploads["image"]
        if source_image_id:
            return await self._library.source_upload(caller, source_image_id)
        if url_accepted and image_url and self._fetch_url is not None:
            return check_image(await self._fetch_url(image_url), max_mb=self._max_mb)
        wanted = "an image file, source_image_id or image_url" if url_accepted \
            else "an image file or source_image_id"
        raise ValidationFailed(errors=[{"loc": ["image"], "msg": f"send {wanted}"}])

    async def edit(self, principal: Principal, request_id: str):  # type: ignore[no-untyped-def]
        """An edit job from an uploaded `image` or `source_image_id`, with an optional `mask`."""
        fields, uploads = await self._multipart(("image", "mask"))
        data: EditFields = validate_fields(EditFields, _given(fields))
        caller = _caller(principal, request_id)
        image = await self._source_image(caller, uploads, data.source_image_id)
        record = await self._images.submit_edit(
            caller,
            EditInput(
                prompt=data.prompt,
                image=image,
                mask=uploads.get("mask"),
                num_outputs=data.num_outputs,
                seed=data.seed,
                model=data.model,
                output_format=data.output_format,
            ),
        )
        return await self._answer(record, data.wait)

    async def describe(self, principal: Principal, request_id: str) -> dict[str, Any]:
        """A description of an uploaded image, one of the caller's images, or an image URL."""
        if self._vision is None:
            raise UpstreamError("No vision provider is configured.")
        fields, uploads = await self._multipart(("image",))
        data: DescribeFields = validate_fields(DescribeFields, _given(fields))
        caller = _caller(principal, request_id)
        image = await self._source_image(caller, uploads, data.source_image_id, url_accepted=True,
                                         image_url=data.image_url)
        result = await self._vision.describe(
            image,
            user_id=caller.user_id,
            plan=caller.plan,
            preset=data.preset,
            instruction=data.instruction,
            request_id=request_id,
        )
        return {
            "description": result.description,
            "provider": result.provider,
            "model": result.model,
            "credits_charged": result.credits_charged,
        }

    async def list(self, principal: Principal, query: ImageListQuery) -> dict[str, Any]:
        """A page of the caller's images."""
        items, next_cursor = await self._library.list(
            principal.require_user_id(),
            status=query.status,
            saved=query.saved,
            limit=query.limit,
            cursor=query.cursor,
        )
        return {"items": [resource(r, self._status_of) for r in items], "next_cursor": next_cursor}

    async def get(self, principal: Principal, image_id: str) -> dict[str, Any]:
        """One of the caller's images."""
        return resource(await self._library.get(principal.require_user_id(), image_id), self._status_of)

    async def delete(self, principal: Principal, image_id: str) -> tuple[str, int]:
        """204 once the record and its files are gone."""
        await self._library.delete(principal.require_user_id(), image_id)
        return "", 204

    async def save(self, principal: Principal, image_id: str) -> dict[str, Any]:
        """The image, now saved (no expiry)."""
        return resource(await self._library.save(principal.require_user_id(), image_id), self._status_of)

    async def events(self, principal: Principal, image_id: str) -> Response:
        """The image job's status changes as server-sent events."""
        return await status_stream(self._library, lambda r: resource(r, self._status_of),
                                   principal.require_user_id(), image_id)


class MediaController:
    """Serves files of the local storage (404 for anything else)."""

    def __init__(self, storage: Any) -> None:
        self._storage = storage

    async def serve(self, key: str):  # type: ignore[no-untyped-def]
        """The file, with a long cache lifetime (keys are never reused); byte ranges on request."""
        from quart import send_file

        from services.platform.errors import NotFound

        path_of = getattr(self._storage, "public_path_of", None)  # private files are never served
        if path_of is None:
            raise NotFound()
        try:
            path = path_of(key)
        except ValueError as exc:
            raise NotFound() from exc
        if not path.is_file():
            raise NotFound()
        response = await send_file(path, conditional=True)  # Range → 206 + Content-Range (video seeking)
        response.headers["Cache-Control"] = "public, max-age=86400"
        response.headers["Accept-Ranges"] = "bytes"
        return response
