"""Upload checks: size limit (413) and real PNG/JPEG/WebP bytes (415), before anything is stored."""

from __future__ import annotations

import io
from dataclasses import dataclass

from services.platform.errors import PayloadTooLarge, UnsupportedMediaType

ALLOWED = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


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


def check_image(data: bytes, *, max_mb: float) -> CheckedUpload:
    """The upload when it is within the size limit and decodes as PNG, JPEG or WebP."""
    from PIL import Image, UnidentifiedImageError  # here, not at start-up (issue 12)

    check_size(len(data), max_mb=max_mb)
    if not data:
        raise UnsupportedMediaType("The upload is empty; send a PNG, JPEG or WebP image.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            img.verify()
        with Image.open(io.BytesIO(data)) as img:  # verify() leaves the image unusable: reopen to decode
            width, height = img.size
            img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnsupportedMediaType("The upload is not a readable PNG, JPEG or WebP image.") from exc
    if fmt not in ALLOWED:
        raise UnsupportedMediaType(f"Images must be PNG, JPEG or WebP (got {fmt or 'unknown'}).")
    return CheckedUpload(data=data, format=fmt.lower(), content_type=ALLOWED[fmt], width=width, height=height)
