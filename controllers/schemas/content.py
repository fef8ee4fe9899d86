"""The content of a chat message as both APIs document it: a string or a list of content parts.

The parts are read by services/chat/content.py, which names a bad part in plain words
(`messages.0.content.1: …`); the schema here only says "a string or a list" (so pydantic's
union internals never reach a client) and documents the part shapes for /openapi.json.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

from controllers.schemas.base import NONBLANK

_TEXT: dict[str, Any] = {"type": "object", "required": ["type", "text"], "additionalProperties": False,
                         "properties": {"type": {"const": "text"}, "text": {"type": "string"}}}
# The forms services/chat/images.py reads (anything else is refused naming the part): a data: URL
# (its bytes must be a PNG, JPEG, WebP or GIF image, else 415), an http(s) URL (fetched; public
# addresses only in production) or one of the caller's images as muse://images/img_… (404 if none).
IMAGE_URL_PATTERN = r"^(data:[^,]*,|https?://|muse://images/)"
_IMAGE_URL: dict[str, Any] = {
    "type": "object", "required": ["type", "image_url"], "additionalProperties": False,
    "description": "An image: a data: URL, an http(s) URL (public addresses only) or one of your images as "
                   "muse://images/img_…; PNG, JPEG, WebP or GIF, at most MAX_UPLOAD_MB, at most "
                   "CHAT_MAX_IMAGES per request, each priced `prices.chat_image` credits; in user turns "
                   "only.",
    "properties": {"type": {"const": "image_url"}, "image_url": {
        "type": "object", "required": ["url"], "additionalProperties": False,
        "properties": {"url": {"type": "string", "minLength": 1, "pattern": IMAGE_URL_PATTERN},
                       "detail": {"enum": ["auto", "low", "high"]}}}}}
_IMAGE_ID: dict[str, Any] = {
    "type": "object", "required": ["type", "image_id"], "additionalProperties": False,
    "description": "One of your images by id (/api/v1 only; 404 if there is none).",
    "properties": {"type": {"const": "image"}, "image_id": {"type": "string", "pattern": "^img_"},
                   "detail": {"enum": ["auto", "low", "high"]}}}
# A list of parts says something when one of its text parts has a non-blank text or it has an image
# (services/chat: a turn whose joined text is blank, without images, is refused naming it).
_SAYS = {"type": "object", "required": ["type", "text"],
         "properties": {"type": {"const": "text"}, "text": {"type": "string", "pattern": NONBLANK}}}


def _string_or_list(value: Any) -> Any:
    if isinstance(value, str | list) or value is None:
        return value
    raise ValueError("content must be a string or a list of content parts")


def text_content_type() -> Any:
    """A `tool` turn's content: a string or text parts (a tool result carries no images)."""
    shapes = [{"type": "string"}, {"type": "array", "minItems": 1, "items": _TEXT}]
    return Annotated[Any, AfterValidator(_string_or_list), WithJsonSchema({"anyOf": shapes})]


def text_only_schema() -> dict[str, Any]:
    """What a turn other than a user's may hold: text (images are accepted in user turns only)."""
    return {"anyOf": [{"type": "string"}, {"type": "array", "items": _TEXT}, {"type": "null"}]}


def says_something() -> dict[str, Any]:
    """A content (string or parts) that is not blank: non-blank text, or an image part."""
    kinds = [{"required": ["type"], "properties": {"type": {"enum": ["image_url", "image"]}}}]
    return {"anyOf": [{"type": "string", "pattern": NONBLANK},
                      {"type": "array", "contains": {"anyOf": [_SAYS, *kinds]}}]}


def content_type(*, images: bool = True, muse_ids: bool = False, nullable: bool = False,
                 nonblank: bool = False) -> Any:
    """The annotated type of `content`: checked to be a string or a list, documented with its parts
    (`images`: image parts are accepted, in user turns; `muse_ids`: also `{"type": "image"}` parts;
    `nonblank`: the content must say something, whitespace alone is refused)."""
    pictures = [_IMAGE_URL, *([_IMAGE_ID] if muse_ids else [])] if images else []
    parts: list[dict[str, Any]] = [_TEXT, *pictures]
    text: dict[str, Any] = {"type": "string", **({"pattern": NONBLANK} if nonblank else {})}
    listed: dict[str, Any] = {"type": "array", "minItems": 1, "items": {"oneOf": parts} if images else _TEXT}
    if nonblank:
        kinds = [p["properties"]["type"] for p in parts[1:]]
        listed["contains"] = {"anyOf": [_SAYS, *({"required": ["type"], "properties": {"type": k}}
                                                 for k in kinds)]} if kinds else _SAYS
    shapes: list[dict[str, Any]] = [text, listed]
    if nullable:
        shapes.append({"type": "null"})
    return Annotated[Any, AfterValidator(_string_or_list), WithJsonSchema({"anyOf": shapes})]
