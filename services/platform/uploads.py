"""Upload checks: size limit (413) and real PNG/JPEG/WebP bytes (415), before anything is stored."""

from __future__ import annotations

import io
from dataclasses import dataclass

from services.platform.errors import PayloadTooLarge, UnsupportedMediaType

ALLOWED = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
WITH_GIF = {**ALLOWED, "GIF": "image/gif"}  # images in chat messages (contract §18)


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the checks."""

    data: bytes
    format: str  # png | jpeg | webp
    content_type: str
    width: int
    height: int


def check_size(size: int, *, max_mb: float) -> None:
    """413 when `size` bytes exceed `max_mb` MiB."""
    limit = int(max_mb * 1024 * 1024)
    if size > limit:
        raise PayloadTooLarge(f"The upload is {size} bytes; the limit is {max_mb:g} MB.", limit_bytes=limit)


def check_image(data: bytes, *, max_mb: float, formats: dict[str, str] = ALLOWED) -> CheckedUpload:
    """The upload when it is within the size limit and decodes as one of `formats` (PNG, JPEG
    or WebP unless told otherwise)."""
    from PIL import Image, UnidentifiedImageError  # here, not at start-up (issue 12)

    check_size(len(data), max_mb=max_mb)
    if not data:
        raise UnsupportedMediaType(f"The upload is empty; send a {_names(formats)} image.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            img.verify()
        with Image.open(io.BytesIO(data)) as img:  # verify() leaves the image unusable: reopen to decode
            width, height = img.size
            img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnsupportedMediaType(f"The upload is not a readable {_names(formats)} image.") from exc
    if fmt not in formats:
        raise UnsupportedMediaType(f"Images must be {_names(formats)} (got {fmt or 'unknown'}).")
    return CheckedUpload(data=data, format=fmt.lower(), content_type=formats[fmt], width=width, height=height)


def _names(formats: dict[str, str]) -> str:
    names = [{"WEBP": "WebP"}.get(f, f) for f in formats]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
