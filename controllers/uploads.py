"""Multipart uploads, read in one place: the request's size checked first, each file part the endpoint
does not take refused by name, each taken file checked as an image (services/platform/uploads.py:
413 over the limit, 415 for bytes that are not a PNG/JPEG/WebP) before anything is stored.

Used by `/api/v1/images/edits` and `/api/v1/images/describe` (controllers/images.py) and by OpenAI's
`/v1/images/edits` (controllers/openai_api.py). Images in chat messages come as data URLs in JSON and
are checked by the same `check_image` (services/chat/images.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from quart import request

from controllers.schemas.base import failure
from services.platform.uploads import CheckedUpload, check_image, check_size

FORM_HEADROOM = 64 * 1024  # bytes of a request that are form fields and boundaries, not the files


def refuse_unknown_files(names: Iterable[str], taken: tuple[str, ...]) -> None:
    """422 naming each uploaded file part the endpoint does not take."""
    unknown = [name for name in names if name not in taken]
    if unknown:
        raise failure([{"loc": [name], "msg": f"Unknown field `{name}`: this endpoint does not take it."}
                       for name in unknown])


def check_length(max_mb: float) -> None:
    """413 at once for a request whose declared length is over the upload limit (with form headroom)."""
    if request.content_length is not None:
        check_size(request.content_length - FORM_HEADROOM, max_mb=max_mb)


async def read_form(max_mb: float) -> tuple[dict[str, Any], Any]:
    """A multipart request's form fields (as sent) and its file parts, its length checked first."""
    check_length(max_mb)
    form, files = await request.form, await request.files
    return dict(form.items()), files


def checked_files(files: Any, taken: tuple[str, ...], *, max_mb: float, list_parts: bool = False
                  ) -> dict[str, CheckedUpload]:
    """The files named in `taken`, each checked as an image; any other file part is refused by name.
    With `list_parts` a file may also come as `<name>[]` (OpenAI's SDK sends a list of images so)."""
    names = {name.removesuffix("[]") for name in files} if list_parts else files.keys()
    refuse_unknown_files(names, taken)
    uploads: dict[str, CheckedUpload] = {}
    for name in taken:
        file = files.get(name) or (files.get(f"{name}[]") if list_parts else None)
        if file is not None:
            uploads[name] = check_image(file.read(), max_mb=max_mb)
    return uploads
