"""Images in chat messages (contract §18): fetched, checked, kept with a conversation, read back.

An image part is a `data:` URL, an http(s) URL (fetched by the address-pinned fetcher of
describe: private addresses refused), or one of the caller's Muse images
(`muse://images/img_…`, or `{"type": "image", "image_id"}` under /api/v1). Each must be
PNG, JPEG, WebP or GIF within `MAX_UPLOAD_MB`, at most `CHAT_MAX_IMAGES` per request;
a refusal names the part. A stored conversation keeps a reference: the Muse image's id, or
the storage key of the image kept privately in the owner's media folder (never at a public
URL; the owner reads it through the conversation).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

import structlog

from services.chat.content import MUSE_IMAGE_PREFIX, ImageSource, ParsedContent, part_error
from services.chat.ports import ChatImage, ChatMessage, ImageLookup, MessageRole
from services.media.ports.storage import StorageProvider, StoredObject
from services.platform.errors import AppError, NotFound, PayloadTooLarge, UnsupportedMediaType
from services.platform.uploads import WITH_GIF, check_image

log = structlog.stdlib.get_logger("muse.chat.images")

Fetch = Callable[[str], Awaitable[bytes]]  # GET an image URL (providers/remote_fetch.py), size-capped




def stored_form(image: ChatImage) -> dict[str, Any]:
    """What a stored message keeps of one of its images (no bytes)."""
    form: dict[str, Any] = {"sha256": image.sha256, "mime": image.mime}
    if image.ref and image.ref.startswith("img_"):
        form["image_id"] = image.ref
    elif image.ref:
        form["key"] = image.ref
    if image.detail:
        form["detail"] = image.detail
    return form


class ChatImages:
    """Resolve image parts into checked images; keep, read back and forget the stored ones."""

    def __init__(self, *, storage: StorageProvider, gallery: ImageLookup, fetch: Fetch,
                 max_images: int = 8, max_mb: float = 10.0) -> None:
        self._storage, self._gallery, self._fetch = storage, gallery, fetch
        self.max_images = max_images
        self.max_mb = max_mb

    # --- a request's parts ---------------------------------------------------------------
    async def messages(self, turns: Sequence[tuple[MessageRole, ParsedContent]], *, user_id: str,
                       openai: bool) -> list[ChatMessage]:
        """Chat turns with their images resolved (images only in user turns; the limit counts them
        all)."""
        for role, parsed in turns:
            if parsed.images and role != "user":
                raise part_error(parsed.images[0].where, "images are accepted in user messages only.",
                                 openai=openai)
        images = iter(await self.resolve([s for _role, p in turns for s in p.images], user_id=user_id,
                                         openai=openai))
        return [ChatMessage(role=role, content=parsed.text,
                            images=tuple(next(images) for _ in parsed.images)) for role, parsed in turns]

    async def resolve(self, sources: Sequence[ImageSource], *, user_id: str,
                      openai: bool) -> list[ChatImage]:
        """The checked images of `sources` (in order); a refusal names the first bad part."""
        if len(sources) > self.max_images:
            raise part_error(sources[self.max_images].where,
                             f"at most {self.max_images} images per request (CHAT_MAX_IMAGES).",
                             openai=openai)
        return [await self._one(source, user_id=user_id, openai=openai) for source in sources]

    async def _one(self, source: ImageSource, *, user_id: str, openai: bool) -> ChatImage:
        url = source.url or ""
        image_id = source.image_id
        if url.startswith(MUSE_IMAGE_PREFIX):
            image_id = url[len(MUSE_IMAGE_PREFIX):].strip("/")
        if image_id is not None:
            data, ref = await self._gallery_image(image_id, source, user_id=user_id, openai=openai), image_id
        elif url.lower().startswith("data:"):
            data, ref = self._data_url(url, source, openai=openai), None
        elif url.lower().startswith(("https://", "http://")):
            data, ref = await self._fetched(url, source, openai=openai), None
        else:
            raise part_error(source.where, "the image URL must be a data: URL, an https URL or "
                                           "muse://images/img_….", openai=openai)
        # decoding checks the whole image (~35 ms for a 1.4 MB PNG here): off the event loop
        return await asyncio.to_thread(self.checked, data, source, ref=ref, openai=openai)

    def checked(self, data: bytes, source: ImageSource, *, ref: str | None, openai: bool) -> ChatImage:
        """`data` as a ChatImage when it is a PNG/JPEG/WebP/GIF within the size limit (413/415 naming
        the part otherwise)."""
        try:
            upload = check_image(data, max_mb=self.max_mb, formats=WITH_GIF)
        except (PayloadTooLarge, UnsupportedMediaType) as exc:
            raise part_error(source.where, exc.detail or exc.title, openai=openai, error=type(exc)) from exc
        return ChatImage(data=data, mime=upload.content_type, sha256=hashlib.sha256(data).hexdigest(),
                         ref=ref, detail=source.detail)

    def _data_url(self, url: str, source: ImageSource, *, openai: bool) -> bytes:
        head, comma, payload = url.partition(",")
        if not comma:
            raise part_error(source.where, "the data: URL has no comma before its data.", openai=openai)
        limit = int(self.max_mb * 1024 * 1024)
        if len(payload) * 3 // 4 > limit + 3:  # refused before decoding megabytes
            raise part_error(source.where, f"the image is larger than the limit of {self.max_mb:g} MB.",
                             openai=openai, error=PayloadTooLarge)
        try:
            if head.lower().endswith(";base64"):
                return base64.b64decode("".join(payload.split()), validate=True)
            return unquote_to_bytes(payload)
        except (binascii.Error, ValueError) as exc:
            raise part_error(source.where, "the data: URL is not valid base64.", openai=openai) from exc

    async def _fetched(self, url: str, source: ImageSource, *, openai: bool) -> bytes:
        try:
            return await self._fetch(url)
        except AppError as exc:  # refused address, too large, unreachable: say which part
            raise part_error(source.where, exc.detail or exc.title, openai=openai,
                             error=None if exc.code == "validation_error" else type(exc)) from exc

    async def _gallery_image(self, image_id: str, source: ImageSource, *, user_id: str,
                             openai: bool) -> bytes:
        record = await self._gallery.get(image_id, user_id=user_id)  # another user's: None, like no image
        if record is None or record.status != "completed" or not record.outputs:
            raise part_error(source.where, f"there is no image {image_id!r} among your images.",
                             openai=openai, error=NotFound)
        file = record.outputs[0]
        return await self._storage.get(StoredObject(file.key, file.url))

    # --- stored conversations ------------------------------------------------------------
    async def keep(self, images: Sequence[ChatImage], *, user_id: str) -> list[dict[str, Any]]:
        """The stored form of `images`; those that are not Muse images yet are put, privately, in the
        owner's media folder."""
        kept = []
        for image in images:
            if image.ref is None:
                obj = await self._storage.put(image.data, folder=user_id, name=f"chat_{image.sha256[:16]}",
                                              content_type=image.mime, private=True)
                image = ChatImage(data=image.data, mime=image.mime, sha256=image.sha256, ref=obj.key,
                                  detail=image.detail)
                kept.append({**stored_form(image), "url": obj.url})
            else:
                kept.append(stored_form(image))
        return kept

    async def read(self, form: dict[str, Any], *, user_id: str) -> bytes | None:
        """The bytes of a stored image (None when it is gone, e.g. deleted from the gallery)."""
        try:
            if form.get("image_id"):
                record = await self._gallery.get(str(form["image_id"]), user_id=user_id)
                if record is None or not record.outputs:
                    return None
                file = record.outputs[0]
                return await self._storage.get(StoredObject(file.key, file.url))
            if form.get("key"):
                return await self._storage.get(StoredObject(str(form["key"]), str(form.get("url") or "")))
        except (OSError, AppError) as exc:
            log.warning("chat_image_unreadable", error=type(exc).__name__)
        return None

    async def load(self, forms: Sequence[dict[str, Any]], *, user_id: str) -> tuple[ChatImage, ...]:
        """The images of a stored message, for the next turn (those gone are left out)."""
        images = []
        for form in forms:
            data = await self.read(form, user_id=user_id)
            if data is None:
                continue
            ref = str(form.get("image_id") or form.get("key") or "") or None
            images.append(ChatImage(data=data, mime=str(form.get("mime") or "image/png"),
                                    sha256=str(form.get("sha256") or hashlib.sha256(data).hexdigest()),
                                    ref=ref, detail=form.get("detail")))
        return tuple(images)

    async def forget(self, forms: Sequence[dict[str, Any]]) -> None:
        """Delete the files kept with a conversation (Muse images stay in the gallery)."""
        for form in forms:
            if form.get("key"):
                await self._storage.delete(str(form["key"]))
