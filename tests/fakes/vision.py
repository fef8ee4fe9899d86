"""What the chat wire fakes check of images, as the real APIs do: the bytes must decode as an image
type the API reads (PNG, JPEG, WebP, GIF), else the API answers 400."""

from __future__ import annotations

import base64
import binascii

MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif",
         b"GIF89a": "image/gif"}


def sniff(data: bytes) -> str | None:
    """The image type of `data` by its signature, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for magic, mime in MAGIC.items() if data.startswith(magic)), None)


def decode_base64(text: str, *, urlsafe: bool = False) -> bytes | None:
    """Strict base64; `urlsafe`: either alphabet, as protobuf's JSON bytes are (google-genai sends the
    URL-safe one)."""
    if urlsafe:
        text = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def data_url_image(url: str) -> tuple[str, bytes] | None:
    """(declared type, bytes) of a base64 image data URL whose bytes are that kind of image, or None."""
    head, comma, payload = url.partition(",")
    if not comma or not head.startswith("data:") or not head.endswith(";base64"):
        return None
    mime, data = head[5:-7], decode_base64(payload)
    if data is None or sniff(data) is None:
        return None
    return mime, data
