"""Message content as clients send it: a string, or a list of content parts (text and images).

Both chat APIs share these rules (contract §18). A part is named by its place in the body
(`messages.0.content.1`) in every refusal, in plain words: under /v1 a 400 whose `param` is
that place, under /api/v1 a 422 whose `errors[0].loc` is. Images are only described here
(`ImageSource`); `services/chat/images.py` fetches, checks and stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.platform.errors import AppError, BadRequest, ValidationFailed

MUSE_IMAGE_PREFIX = "muse://images/"
DETAILS = ("auto", "low", "high")
REFUSED_PARTS = {
    "input_audio": "Audio input is not supported.",
    "audio": "Audio input is not supported.",
    "file": "File parts are not supported; send images as image_url parts.",
}


@dataclass(frozen=True, slots=True)
class ImageSource:
    """One image part of a request: where it is in the body and what it points to."""

    where: tuple[str | int, ...]  # ("messages", 0, "content", 1)
    url: str | None = None  # a data: URL, an http(s) URL or muse://images/img_…
    image_id: str | None = None  # `{"type": "image", "image_id"}` (/api/v1)
    detail: str | None = None

    @property
    def param(self) -> str:
        """The part's place as a dotted path (`messages.0.content.1`)."""
        return ".".join(str(p) for p in self.where)


@dataclass(frozen=True, slots=True)
class ParsedContent:
    """The text of a message (its text parts joined by newlines) and its image parts."""

    text: str
    images: tuple[ImageSource, ...] = ()


def part_error(where: Sequence[str | int], message: str, *, openai: bool,
               error: type[AppError] | None = None) -> AppError:
    """A refusal naming the part at `where`: 400 (`param`) under /v1, 422 (`loc`) under /api/v1;
    `error` for another class (413, 415, 404), with the same naming."""
    param = ".".join(str(p) for p in where)
    if openai:  # OpenAI's envelope: `param` names the part, the message says what is wrong
        return (error or BadRequest)(f"{param}: {message}", param=param)
    errors = [{"loc": ["body", *where], "msg": message}]
    if error is None:
        return ValidationFailed(f"{param}: {message}", errors=errors)
    return error(f"{param}: {message}", errors=errors)


def parse_content(content: Any, where: tuple[str | int, ...], *, openai: bool,
                  muse_ids: bool = False) -> ParsedContent:
    """`content` (a string, None, or a list of parts) as text and image sources.

    `muse_ids`: `{"type": "image", "image_id"}` parts are accepted (/api/v1)."""
    if content is None or isinstance(content, str):
        return ParsedContent(content or "")
    if not isinstance(content, list):
        raise part_error(where, "content must be a string or a list of content parts.", openai=openai)
    texts: list[str] = []
    images: list[ImageSource] = []
    for index, part in enumerate(content):
        at = (*where, index)
        if not isinstance(part, dict):
            raise part_error(at, "each content part must be an object with a `type`.", openai=openai)
        kind = part.get("type")
        if kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise part_error(at, "a text part needs `text`, a string.", openai=openai)
            _no_other_fields(part, ("type", "text"), at, openai=openai)
            texts.append(text)
        elif kind == "image_url":
            images.append(_image_url(part, at, openai=openai))
        elif kind == "image" and muse_ids:
            image_id = part.get("image_id")
            if not isinstance(image_id, str) or not image_id:
                raise part_error(at, "an image part needs `image_id` (one of your images, img_…).",
                                 openai=openai)
            _no_other_fields(part, ("type", "image_id", "detail"), at, openai=openai)
            images.append(ImageSource(at, image_id=image_id, detail=_detail(part.get("detail"), at, openai)))
        elif isinstance(kind, str) and kind in REFUSED_PARTS:
            raise part_error(at, f"content parts of type {kind!r} are refused: {REFUSED_PARTS[kind]}",
                             openai=openai)
        else:
            known = "text, image_url" + (" or image" if muse_ids else "")
            raise part_error(at, f"content parts of type {kind!r} are not supported; use {known}.",
                             openai=openai)
    return ParsedContent("\n".join(texts), tuple(images))


def _image_url(part: dict[str, Any], at: tuple[str | int, ...], *, openai: bool) -> ImageSource:
    spec = part.get("image_url")
    if isinstance(spec, str):  # the older shorthand some clients send: "image_url": "<url>"
        spec = {"url": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("url"), str) or not spec["url"].strip():
        raise part_error(at, "an image_url part needs `image_url.url`: a data: URL, an https URL or "
                             "muse://images/img_….", openai=openai)
    _no_other_fields(part, ("type", "image_url"), at, openai=openai)
    _no_other_fields(spec, ("url", "detail"), (*at, "image_url"), openai=openai)
    detail = _detail(spec.get("detail"), (*at, "image_url"), openai)
    return ImageSource(at, url=spec["url"].strip(), detail=detail)


def _detail(value: Any, at: tuple[str | int, ...], openai: bool) -> str | None:
    if value is None:
        return None
    if value not in DETAILS:
        raise part_error((*at, "detail"), f"detail must be one of {', '.join(DETAILS)}.", openai=openai)
    return str(value)


def _no_other_fields(part: dict[str, Any], known: tuple[str, ...], at: tuple[str | int, ...],
                     *, openai: bool) -> None:
    for name in part:
        if name not in known:
            raise part_error((*at, name), f"the field {name!r} is not supported in this content part.",
                             openai=openai)
